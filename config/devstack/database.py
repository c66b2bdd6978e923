"""DATABASE_URL on a development checkout: the embedded PostgreSQL, when nothing else is configured.

The settings read DATABASE_URL (with DATABASE_OWNER_URL and DATABASE_APP_ROLE) and start nothing.
What runs Django on a development checkout calls `use_embedded_database()` first: `manage.py`, the
pytest plugin (`config/devstack/pytest_plugin.py`) and `python -m config.devstack`. The production
entry points (`config/wsgi.py`, `config/asgi.py`, `config/gunicorn.py`) never do: under `make run`
they inherit the URLs the stack exported.

When DATABASE_URL is set neither in the environment nor in `.env`, and the settings are a
development module (DEVELOPMENT_SETTINGS), it starts the embedded server in .data/postgres or
attaches to the one running there, creates the roles and the database if missing, and exports, for
the settings (and every process started from this one) to read:

- with EMBEDDED_DATABASE_ROLE=app, the default: DATABASE_URL as the application role
  (`payments_app`) and DATABASE_OWNER_URL as the owner role (`payments_owner`), which only
  `manage.py migrate` uses;
- with EMBEDDED_DATABASE_ROLE=superuser, the default under config.settings.test (tests and
  benchmarks create databases): DATABASE_URL as the server's superuser, and no owner URL;
- in both cases DATABASE_APP_ROLE=payments_app, the role `migrate` grants the application's
  privileges to, unless it is set already.

Any other settings module, config.settings.production included, gets nothing from here: it reads
DATABASE_URL or refuses to start.
"""

import os
from pathlib import Path
from urllib.parse import quote

import environ

BASE_DIR = Path(__file__).resolve().parents[2]
DEFAULT_SETTINGS = "config.settings.base"
# The settings modules that may run on the embedded server, and the role each connects as by default
# (None: EMBEDDED_DATABASE_ROLE from the environment or .env, else "app").
DEVELOPMENT_SETTINGS = {"config.settings.base": None, "config.settings.test": "superuser"}


def settings_module(argv: list[str]) -> str:
    """The settings a `manage.py` command line will use: its --settings, else DJANGO_SETTINGS_MODULE."""
    for index, argument in enumerate(argv):
        if argument.startswith("--settings="):
            return argument.split("=", 1)[1]
        if argument == "--settings" and index + 1 < len(argv):
            return argv[index + 1]
    return os.environ.get("DJANGO_SETTINGS_MODULE", DEFAULT_SETTINGS)


def use_embedded_database(settings: str) -> bool:
    """Export the embedded server's URLs when `settings` is a development module and DATABASE_URL is
    unset; True when it did."""
    if settings not in DEVELOPMENT_SETTINGS:
        return False
    if DEVELOPMENT_SETTINGS[settings]:  # before .env, as the real environment is
        os.environ.setdefault("EMBEDDED_DATABASE_ROLE", DEVELOPMENT_SETTINGS[settings])
    dotenv = _dotenv()

    def value(name: str, default: str | None = "") -> str | None:  # as the settings will read it
        return os.environ[name] if name in os.environ else dotenv.get(name, default)

    if value("DATABASE_URL"):
        return False
    from config.devstack import embedded

    name = value("EMBEDDED_DATABASE_NAME", "payments")
    as_superuser = value("EMBEDDED_DATABASE_ROLE", "app") == "superuser"
    server = embedded.database_settings(name, embedded.APP_ROLE)
    user = embedded.POSTGRES_SUPERUSER if as_superuser else embedded.APP_ROLE
    os.environ["DATABASE_URL"] = database_url(server, user)
    if not as_superuser:
        os.environ["DATABASE_OWNER_URL"] = database_url(server, embedded.OWNER_ROLE)
    if value("DATABASE_APP_ROLE", None) is None:  # set, even empty, it stays
        os.environ["DATABASE_APP_ROLE"] = embedded.APP_ROLE
    return True


def database_url(settings: dict, user: str) -> str:
    """A Django DATABASES entry as a URL for `user` (no password). The host, a socket directory, goes
    percent-encoded in the path, which django-environ reads back as HOST and PORT."""
    host = quote(str(settings["HOST"]), safe="")
    return f"postgres://{quote(user, safe='')}@:{settings['PORT']}/{host}/{quote(settings['NAME'], safe='')}"


def _dotenv() -> dict[str, str]:
    """The variables of `.env`, as the settings will read them, without exporting them."""

    class DotEnv(environ.Env):
        ENVIRON: dict[str, str] = {}

    DotEnv.read_env(BASE_DIR / ".env", overwrite=True)
    return DotEnv.ENVIRON
