"""Settings for the pytest suite: the same real PostgreSQL, one connection per test.

On the embedded server the suite connects as its superuser (config/devstack/database.py: these
settings default EMBEDDED_DATABASE_ROLE to superuser), which creates the test database and switches
triggers off to empty it between tests (the suite's conftest picks a backend that may flush events);
`migrate` still grants the application role its privileges, and processes started by tests (workers,
the chaos run) connect as that role.
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES

DATABASES["default"]["CONN_MAX_AGE"] = 0
for _alias in DATABASES:
    DATABASES[_alias].get("OPTIONS", {}).pop("pool", None)  # one connection per test; served processes pool
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False}
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # test receivers listen on loopback
FEED_MAX_WAIT_SECONDS = 2.0  # the API fuzz may ask any wait up to this
