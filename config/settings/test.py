"""Settings for the pytest suite: the same real PostgreSQL, plus a backend that may flush events."""

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES

# Django's test teardown truncates every table; the event store's triggers refuse that, so the
# test backend flushes with triggers off (session_replication_role, superuser only).
DATABASES["default"]["ENGINE"] = "tests.postgres_backend"
DATABASES["default"]["CONN_MAX_AGE"] = 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False}
