"""Least privilege: what the application role may do, granted after every `migrate`.

The web server and the worker connect as the application role (settings.DATABASE_APP_ROLE); the
tables belong to the owner role that runs migrations. The application role owns nothing, so it
cannot ALTER or DROP a table or disable a trigger, and as no superuser it cannot switch
`session_replication_role`. History may be read and appended to, never changed: events, seals,
verification records and set-aside events get SELECT and INSERT only, stream heads SELECT only (they
move through the event insert trigger, which runs as its owner). Read models, checkpoints and
Django's own tables get ordinary reads and writes; the copies a projection rebuild fills get
TRUNCATE as well.
"""

from django.conf import settings
from django.db import connections
from psycopg import sql

from eventstore import projection_rebuild

# Tables where the application role gets less than READ_WRITE: history, and the migration record.
RESTRICTED = {
    "eventstore_event": "SELECT, INSERT",
    "eventstore_stream": "SELECT",
    "eventstore_seal": "SELECT, INSERT",
    "eventstore_chainverification": "SELECT, INSERT",
    "eventstore_setasideevent": "SELECT, INSERT",
    "django_migrations": "SELECT",
}
READ_WRITE = "SELECT, INSERT, UPDATE, DELETE"


def grant_application_privileges(*, using: str = "default") -> None:
    """Give the application role exactly its privileges on every table (a no-op without one)."""
    role = settings.DATABASE_APP_ROLE
    if not role:
        return
    connection = connections[using]
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        grantee = sql.Identifier(role)
        cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA public, {} TO {}").format(
            sql.Identifier(projection_rebuild.REBUILD_SCHEMA), grantee))
        for table in tables:
            cursor.execute(sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(sql.Identifier(table), grantee))
            cursor.execute(sql.SQL("GRANT {} ON TABLE {} TO {}").format(
                sql.SQL(RESTRICTED.get(table, READ_WRITE)), sql.Identifier(table), grantee))
        cursor.execute(sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(grantee))
        cursor.execute(sql.SQL("GRANT {}, TRUNCATE ON ALL TABLES IN SCHEMA {} TO {}").format(
            sql.SQL(READ_WRITE), sql.Identifier(projection_rebuild.REBUILD_SCHEMA), grantee))
