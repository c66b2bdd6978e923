"""Running manage.py commands as real processes against the test database and Temporal server."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlencode

from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The test database as a DATABASE_URL; the host (a socket directory) goes in the query string."""
    settings = connection.settings_dict
    password = f":{quote(settings['PASSWORD'])}" if settings.get("PASSWORD") else ""
    query = urlencode({"host": settings["HOST"], "port": settings["PORT"] or 5432})
    return f"postgres://{quote(settings['USER'])}{password}@/{settings['NAME']}?{query}"


def command_env(**overrides: str) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base", "DATABASE_URL": database_url()}
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
