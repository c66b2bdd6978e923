"""`manage.py migrate`, run as the owner role (DATABASE_OWNER_URL) when one is configured.

The web server and worker connect as the application role, which owns nothing and cannot change
the schema; migrations need the role that owns the tables. After migrating, the application role
is granted its privileges (eventstore/privileges.py).
"""

import contextlib

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.migrate import Command as DjangoMigrateCommand
from django.db import connections


class Command(DjangoMigrateCommand):
    help = DjangoMigrateCommand.help + " Connects as the owner role (DATABASE_OWNER_URL) when one is configured."

    def handle(self, *args, **options):
        with _connected_as_owner(options["database"]) as connection:
            if settings.DATABASE_APP_ROLE and connection.settings_dict["USER"] == settings.DATABASE_APP_ROLE:
                raise CommandError(
                    f"migrate would run as the application role {settings.DATABASE_APP_ROLE!r}, which owns "
                    "nothing and cannot change the schema: set DATABASE_OWNER_URL to the role that owns the tables."
                )
            return super().handle(*args, **options)


@contextlib.contextmanager
def _connected_as_owner(alias: str):
    owner = getattr(settings, "DATABASE_OWNER", None)
    connection = connections[alias]
    if alias != "default" or not owner:
        yield connection
        return
    credentials = {key: owner[key] for key in ("USER", "PASSWORD", "HOST", "PORT", "NAME") if key in owner}
    original = {key: connection.settings_dict.get(key) for key in credentials}
    connection.close()
    connection.close_pool()  # the pool's connections are the application role's
    pool = connection.settings_dict["OPTIONS"].pop("pool", None)
    connection.settings_dict.update(credentials)
    try:
        yield connection
    finally:
        connection.close()
        connection.settings_dict.update(original)
        if pool is not None:
            connection.settings_dict["OPTIONS"]["pool"] = pool
