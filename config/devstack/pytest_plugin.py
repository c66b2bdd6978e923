"""pytest on a development checkout: the embedded PostgreSQL when DATABASE_URL is unset, and the
development key for Temporal payloads when none is configured.

Loaded with `-p config.devstack.pytest_plugin` (pytest.ini), so that `python -m pytest ...` works
as `make test` does. It runs before pytest-django reads the settings, which start nothing.
"""

import os

import pytest

from config.devstack.database import use_embedded_database
from config.devstack.payload_keys import use_development_payload_keys


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    options = parser.parse_known_args(args)
    if options.help or options.version:
        return
    # The settings pytest-django will use: --ds, else DJANGO_SETTINGS_MODULE, else pytest.ini.
    settings = (getattr(options, "ds", None) or os.environ.get("DJANGO_SETTINGS_MODULE")
                or early_config.getini("DJANGO_SETTINGS_MODULE"))
    use_embedded_database(settings)
    use_development_payload_keys(settings)  # the suite's clients, workers and served processes share it
