"""Settings for the pytest suite: the same real PostgreSQL, plus a backend that may flush events.

The suite connects as the embedded server's superuser, which creates the test database and
switches triggers off to empty it between tests; `migrate` still grants the application role its
privileges, and processes started by tests (workers, the chaos run) connect as that role.
"""

import os

os.environ.setdefault("EMBEDDED_DATABASE_ROLE", "superuser")

from config.settings.base import *  # noqa: E402, F403
from config.settings.base import DATABASES  # noqa: E402

# Django's test teardown truncates every table; the event store's triggers refuse that, so the
# test backend flushes with triggers off (session_replication_role, superuser only).
DATABASES["default"]["ENGINE"] = "tests.postgres_backend"
DATABASES["default"]["CONN_MAX_AGE"] = 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False}
