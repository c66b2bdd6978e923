"""Plain psycopg connections to the test database, outside Django's connection handling."""

import contextlib

import psycopg
from django.db import connection


@contextlib.contextmanager
def plain_connection(*, autocommit: bool = True, role: str | None = None):
    """The suite's own role, or `role` (passwordless, as on the embedded server)."""
    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"], user=role or settings["USER"], password=None if role else settings.get("PASSWORD") or None,
        host=settings["HOST"] or None, port=settings["PORT"] or None, autocommit=autocommit,
    ) as plain:
        yield plain


@contextlib.contextmanager
def triggers_disabled():
    """A superuser session with triggers off: how an attacker with full rights would edit history."""
    with plain_connection() as plain:
        plain.execute("SET session_replication_role = replica")
        yield plain
