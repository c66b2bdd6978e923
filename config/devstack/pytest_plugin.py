"""pytest on a development checkout: the embedded PostgreSQL when DATABASE_URL is unset.

Loaded with `-p config.devstack.pytest_plugin` (pytest.ini), so that `python -m pytest ...` works
as `make test` does. It runs before pytest-django reads the settings, which start nothing.
"""

import os

import pytest

from config.devstack.database import use_embedded_database


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    options = parser.parse_known_args(args)
    if options.help or options.version:
        return
    # The settings pytest-django will use: --ds, else DJANGO_SETTINGS_MODULE, else pytest.ini.
    settings = (getattr(options, "ds", None) or os.environ.get("DJANGO_SETTINGS_MODULE")
                or early_config.getini("DJANGO_SETTINGS_MODULE"))
    use_embedded_database(settings)
