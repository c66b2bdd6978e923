"""The production settings pass Django's deployment checks, and refuse to start half-configured."""

import secrets

import pytest

from tests.processes import command_env, manage

PRODUCTION = {"DJANGO_SETTINGS_MODULE": "config.settings.production", "SECRET_KEY": secrets.token_urlsafe(50),
              "ALLOWED_HOSTS": "payments.example.com", "DATABASE_URL": "postgres://app@db.example.com:5432/payments",
              "TEMPORAL_ADDRESS": "temporal.example.com:7233"}


def production_env(*, without: tuple[str, ...] = ()) -> dict:
    env = command_env(**PRODUCTION)
    for name in without:
        env.pop(name, None)
    return env


def test_check_deploy_passes_with_production_settings():
    process = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    assert "no issues" in output


def test_production_refuses_to_start_without_a_secret_key():
    process = manage("check", env=production_env(without=("SECRET_KEY",)))
    output, _ = process.communicate(timeout=120)
    assert process.returncode != 0 and "SECRET_KEY" in output


@pytest.mark.parametrize("missing", [("DATABASE_URL",), ("TEMPORAL_ADDRESS",), ("DATABASE_URL", "TEMPORAL_ADDRESS")])
def test_production_without_database_or_temporal_exits_with_one_clear_line(missing):
    """Nothing is started or guessed: no embedded PostgreSQL, no Temporal on localhost."""
    process = manage("check", env=production_env(without=missing))
    output, _ = process.communicate(timeout=120)

    assert process.returncode != 0
    assert len(output.strip().splitlines()) == 1, output
    assert "Traceback" not in output
    assert all(name in output for name in missing), output
    assert "Production settings need" in output


def test_production_given_on_the_command_line_starts_no_embedded_server():
    process = manage("check", "--settings=config.settings.production",
                     env={**production_env(without=("DATABASE_URL",)), "DJANGO_SETTINGS_MODULE": "config.settings.base"})
    output, _ = process.communicate(timeout=120)

    assert process.returncode != 0
    assert output.strip().splitlines() == [
        "ImproperlyConfigured: Production settings need DATABASE_URL in the environment (see Configuration in README.md)."
    ]


def test_health_probes_over_plain_http_are_answered_and_pages_redirected_to_https():
    probe = ("from django.test import Client; c = Client(HTTP_HOST='payments.example.com'); "
             "print(c.get('/healthz').status_code, c.get('/admin/').status_code)")
    process = manage("shell", "--no-imports", "-c", probe, env=production_env())
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    assert output.strip().splitlines()[-1] == "200 301"
