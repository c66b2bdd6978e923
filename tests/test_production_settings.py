"""The production settings pass Django's deployment checks, are what the production entry points
serve unless told otherwise, and refuse to start half-configured."""

import base64
import json
import secrets
import subprocess
import sys

import pytest

from tests.processes import BASE_DIR, command_env, manage

# What a production deployment sets (README, "Running in production"); the security settings keep
# their defaults.
PRODUCTION = {"DJANGO_SETTINGS_MODULE": "config.settings.production", "SECRET_KEY": secrets.token_urlsafe(50),
              "ALLOWED_HOSTS": "payments.example.com", "DATABASE_URL": "postgres://app@db.example.com:5432/payments",
              "TEMPORAL_ADDRESS": "temporal.example.com:7233",
              "TEMPORAL_PAYLOAD_KEYS": f"2026-12:{base64.b64encode(secrets.token_bytes(32)).decode()}"}
SECURITY = ("SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
            "SECURE_HSTS_PRELOAD")
DEVELOPMENT_ONLY = ("TEMPORAL_PAYLOAD_KEY_FILE",)  # the suite's development key


def production_env(*, without: tuple[str, ...] = ()) -> dict:
    env = command_env(**PRODUCTION)
    for name in (*SECURITY, *DEVELOPMENT_ONLY, *without):
        env.pop(name, None)
    return env


def python(code: str, env: dict) -> str:
    """What `code`, run by a fresh interpreter in the checkout, prints; it must succeed."""
    process = subprocess.run([sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True,
                             timeout=120)
    assert process.returncode == 0, process.stdout + process.stderr
    return process.stdout.strip().splitlines()[-1]


def test_check_deploy_passes_with_production_settings():
    process = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    assert "no issues" in output


@pytest.mark.parametrize("entry_point", ["config.wsgi", "config.asgi"])
def test_the_applications_serve_the_production_settings_when_no_settings_module_is_named(entry_point):
    """DEBUG=True in the environment (a .env copied from a laptop) does not turn debug pages on."""
    env = {**production_env(without=("DJANGO_SETTINGS_MODULE",)), "DEBUG": "True"}
    shown = python(f"import {entry_point}; from django.conf import settings; "
                   "print(settings.SETTINGS_MODULE, settings.DEBUG)", env)
    assert shown == "config.settings.production False"


def test_the_wsgi_application_named_no_settings_passes_the_deployment_checks():
    env = production_env(without=("DJANGO_SETTINGS_MODULE", "DEBUG"))
    shown = python("import config.wsgi; from django.core.management import call_command; "
                   "call_command('check', deploy=True, fail_level='WARNING')", env)
    assert "no issues" in shown


def test_the_security_settings_come_from_the_environment():
    """Behind a proxy that marks HTTPS with another header, that header is trusted and no other."""
    env = {**production_env(), "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_SSL,on",
           "SECURE_HSTS_INCLUDE_SUBDOMAINS": "False", "SECURE_HSTS_PRELOAD": "False", "SECURE_HSTS_SECONDS": "600"}
    probe = ("import json; from django.conf import settings; from django.test import Client; "
             "c = Client(HTTP_HOST='payments.example.com'); "
             "print(json.dumps([list(settings.SECURE_PROXY_SSL_HEADER), settings.SECURE_HSTS_SECONDS, "
             "settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, settings.SECURE_HSTS_PRELOAD, "
             "c.get('/admin/', HTTP_X_FORWARDED_SSL='on').status_code, "
             "c.get('/admin/', HTTP_X_FORWARDED_PROTO='https').status_code]))")
    process = manage("shell", "--no-imports", "-c", probe, env=env)
    output, _ = process.communicate(timeout=120)

    assert process.returncode == 0, output
    assert json.loads(output.strip().splitlines()[-1]) == [["HTTP_X_FORWARDED_SSL", "on"], 600, False, False, 302, 301]


def test_without_a_proxy_no_header_makes_a_request_secure():
    probe = ("from django.conf import settings; from django.test import Client; "
             "c = Client(HTTP_HOST='payments.example.com', HTTP_X_FORWARDED_PROTO='https'); "
             "print(settings.SECURE_PROXY_SSL_HEADER, c.get('/admin/').status_code)")
    process = manage("shell", "--no-imports", "-c", probe, env={**production_env(), "SECURE_PROXY_SSL_HEADER": ""})
    output, _ = process.communicate(timeout=120)

    assert process.returncode == 0, output
    assert output.strip().splitlines()[-1] == "None 301"


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


def test_production_without_payload_keys_refuses_unless_plain_payloads_are_asked_for():
    process = manage("check", env=production_env(without=("TEMPORAL_PAYLOAD_KEYS",)))
    output, _ = process.communicate(timeout=120)
    assert process.returncode != 0 and len(output.strip().splitlines()) == 1, output
    assert "Production settings need the keys that encrypt Temporal payloads" in output
    assert "TEMPORAL_PAYLOAD_ENCRYPTION=off" in output


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
