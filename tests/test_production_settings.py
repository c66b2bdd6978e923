"""The production settings pass Django's deployment checks."""

import secrets

from tests.processes import command_env, manage


def test_check_deploy_passes_with_production_settings():
    env = command_env(DJANGO_SETTINGS_MODULE="config.settings.production", SECRET_KEY=secrets.token_urlsafe(50),
                      ALLOWED_HOSTS="payments.example.com", DATABASE_URL="postgres://app@db.example.com:5432/payments")
    process = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    assert "no issues" in output


def test_production_refuses_to_start_without_a_secret_key():
    env = command_env(DJANGO_SETTINGS_MODULE="config.settings.production", ALLOWED_HOSTS="payments.example.com",
                      DATABASE_URL="postgres://app@db.example.com:5432/payments")
    env.pop("SECRET_KEY", None)
    process = manage("check", env=env)
    output, _ = process.communicate(timeout=120)
    assert process.returncode != 0 and "SECRET_KEY" in output
