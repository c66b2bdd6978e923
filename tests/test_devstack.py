"""On a development checkout with nothing configured, manage.py finds the embedded PostgreSQL by
itself (config/devstack/database.py), with the same roles as before; the settings and the production
entry points (WSGI, ASGI, gunicorn) start nothing and say what is missing; DEBUG is on only under
`make dev`."""

import json
import os
import subprocess
import sys

import pytest

from config.devstack import embedded
from config.devstack.stack import served_settings, spawn, web_server_command
from tests.processes import BASE_DIR, command_env, manage

SHOW = ("import json; from django.conf import settings; from django.db import connection; "
        "user = connection.cursor().execute('SELECT current_user').fetchone()[0]; "
        "print(json.dumps([user, (settings.DATABASE_OWNER or {}).get('USER'), settings.DATABASE_APP_ROLE]))")
CONFIGURED = ("DATABASE_URL", "DATABASE_OWNER_URL", "DATABASE_APP_ROLE", "EMBEDDED_DATABASE_ROLE")


@pytest.fixture
def development_checkout() -> dict:
    if not embedded.postgres_is_running():
        pytest.skip("the suite does not run on the embedded server, so this would start one")
    env = {name: value for name, value in os.environ.items() if name not in CONFIGURED}
    return {**env, "DJANGO_SETTINGS_MODULE": "config.settings.base"}


def shown(env: dict) -> list:
    process = manage("shell", "--no-imports", "-c", SHOW, env=env)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    return json.loads(output.strip().splitlines()[-1])


def test_manage_py_connects_as_the_application_role_and_migrates_as_the_owner(development_checkout):
    assert shown(development_checkout) == [embedded.APP_ROLE, embedded.OWNER_ROLE, embedded.APP_ROLE]


def test_embedded_superuser_has_no_owner_role_and_still_grants_to_the_application_role(development_checkout):
    env = {**development_checkout, "EMBEDDED_DATABASE_ROLE": "superuser"}
    assert shown(env) == [embedded.POSTGRES_SUPERUSER, None, embedded.APP_ROLE]


def test_reading_the_settings_starts_nothing(development_checkout):
    """Imported without manage.py and without DATABASE_URL, the settings say what is missing."""
    bare = subprocess.run([sys.executable, "-c", "import config.settings.base"], cwd=BASE_DIR,
                          env=development_checkout, capture_output=True, text=True, timeout=120)
    assert bare.returncode != 0
    assert "ImproperlyConfigured: DATABASE_URL is not set" in bare.stderr


@pytest.mark.parametrize("entry_point", ["config.wsgi", "config.asgi"])
def test_the_applications_start_nothing_without_database_url(development_checkout, entry_point):
    bare = subprocess.run([sys.executable, "-c", f"import {entry_point}"], cwd=BASE_DIR,
                          env=development_checkout, capture_output=True, text=True, timeout=120)
    assert bare.returncode != 0
    assert "ImproperlyConfigured: DATABASE_URL is not set" in bare.stderr


def test_gunicorn_refuses_to_start_without_database_url(development_checkout):
    server = spawn(web_server_command(development=False, address=f"127.0.0.1:{embedded.free_port()}"),
                   env=development_checkout, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output, _ = server.communicate(timeout=120)
    assert server.returncode != 0
    assert "Refusing to start: DATABASE_URL is not set" in output


def settings_shown(command: list[str], env: dict) -> str:
    process = subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert process.returncode == 0, process.stdout + process.stderr
    return process.stdout.strip().splitlines()[-1]


SHOW_DEBUG = "from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)"


@pytest.mark.parametrize("settings_module", ["config.settings.base", "config.settings.test"])
def test_debug_is_off_unless_asked(settings_module):
    env = command_env(DJANGO_SETTINGS_MODULE=settings_module)
    env.pop("DEBUG", None)
    shown = settings_shown([sys.executable, "manage.py", "shell", "--no-imports", "-c", SHOW_DEBUG], env)
    assert shown == f"{settings_module} False"


@pytest.mark.parametrize(("development", "debug"), [(True, "True"), (False, "False")])
def test_make_dev_serves_with_debug_on_and_make_run_with_debug_off(development, debug):
    """What each web server loads with what the stack exports, whatever DEBUG said before: runserver
    through manage.py, gunicorn through config.wsgi (which would serve the production settings)."""
    before = {**command_env(), "DEBUG": str(not development)}
    before.pop("DJANGO_SETTINGS_MODULE")
    env = {**before, **served_settings(before, development=development)}
    server = ([sys.executable, "manage.py", "shell", "--no-imports", "-c", SHOW_DEBUG] if development
              else [sys.executable, "-c", f"import config.wsgi; {SHOW_DEBUG}"])
    assert settings_shown(server, env) == f"config.settings.base {debug}"
