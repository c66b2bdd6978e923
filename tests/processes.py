"""Running manage.py commands as real processes against the test database and Temporal server."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlencode

from django.conf import settings as django_settings
from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent


def database_url(user: str | None = None) -> str:
    """The test database as a DATABASE_URL; the host (a socket directory) goes in the query string.

    `user` (a role without a password, as on the embedded server) replaces the suite's own role.
    """
    settings = connection.settings_dict
    password = f":{quote(settings['PASSWORD'])}" if settings.get("PASSWORD") and user is None else ""
    query = urlencode({"host": settings["HOST"], "port": settings["PORT"] or 5432})
    return f"postgres://{quote(user or settings['USER'])}{password}@/{settings['NAME']}?{query}"


def application_database_url() -> str:
    """Processes started by tests connect as the application role, like the real web server and worker."""
    return database_url(django_settings.DATABASE_APP_ROLE or None)


def command_env(**overrides: str) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base", "DATABASE_URL": application_database_url()}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set in-process for the browser tests only
    env.update(overrides)
    return env


def manage(*arguments: str, env: dict, output=subprocess.PIPE) -> subprocess.Popen:
    """Run a management command. A long-running one that logs a lot must get a file as `output`:
    nobody reads a pipe while the test runs, and a full pipe would block the process."""
    return subprocess.Popen(
        [sys.executable, str(BASE_DIR / "manage.py"), *arguments],
        cwd=BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT, text=True,
    )
