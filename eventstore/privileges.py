"""Least privilege: what the application role may do, granted after every `migrate`.

The web server and the worker connect as the application role (settings.DATABASE_APP_ROLE); the
tables belong to the owner role that runs migrations. The application role owns nothing, so it
cannot ALTER or DROP a table or disable a trigger, and as no superuser it cannot switch
`session_replication_role`. History may be read, never written or changed by hand: events, seals,
verification records, stream heads, the ledger, its signed heads and key statements get SELECT only. New history goes through the SECURITY DEFINER
functions of `eventstore/sql/` (the append, a seal, a verification record), which run as their owner
and alone set positions, times, transaction ids and hashes; the application role may execute them,
and may read the store's sequences but not draw from them. Set-aside events get SELECT and INSERT
only. The data subjects' keys get nothing: the application role reaches one subject's key at a
time through the functions of `eventstore/sql/`, and cannot list them. Read models, checkpoints and Django's own tables get ordinary reads and writes; the copies a
projection rebuild fills get TRUNCATE as well.
"""

from django.conf import settings
from django.db import connections
from psycopg import sql

# Tables where the application role gets less than READ_WRITE: history, and the migration record.
RESTRICTED = {
    "eventstore_event": "SELECT",
    "eventstore_stream": "SELECT",
    "eventstore_seal": "SELECT",
    "eventstore_chainverification": "SELECT",
    "eventstore_setasideevent": "SELECT, INSERT",
    "eventstore_ledgerentry": "SELECT",
    "eventstore_ledgernode": "SELECT",
    "eventstore_ledgerstream": "SELECT",
    "eventstore_ledgerstreamnode": "SELECT",
    "eventstore_treehead": "SELECT",
    "eventstore_keystatement": "SELECT",
    "django_migrations": "SELECT",
    "eventstore_personaldatakey": "",  # no privilege: reached only through KEY_FUNCTIONS
}
READ_WRITE = "SELECT, INSERT, UPDATE, DELETE"
# The only way the application role writes history (eventstore/sql/).
HISTORY_WRITERS = (
    "eventstore_append(text, text, bigint, uuid[], text[], text[], text[])",
    "eventstore_record_seal(bigint, bigint, text)",
    "eventstore_record_verification(boolean, bigint, bigint, bigint, text, text, bigint, bigint, bigint, bigint, bigint,"
    " bigint)",
    # The ledger: extended, rooted and signed only through these.
    "eventstore_ledger_extend(integer)",
    "eventstore_ledger_root(bigint)",
    "eventstore_record_tree_head(bigint, timestamptz, text, text, text, text)",
    "eventstore_record_key_statement(bigint, timestamptz, text, text, text)",
)
# The only way the application role reaches the data subjects' keys: one subject's key by its id.
KEY_FUNCTIONS = (
    "eventstore_personal_data_keys(text[])",
    "eventstore_personal_data_key_create(text, uuid, bytea)",
    "eventstore_personal_data_key_erase(text)",
)
# Sequences that number history: read (verify_event_chain compares positions with the last one
# handed out), never drawn from.
HISTORY_SEQUENCES = (("eventstore_event", "position"), ("eventstore_seal", "id"), ("eventstore_chainverification", "id"))


def grant_application_privileges(*, work_schema: str, using: str = "default") -> None:
    """Give the application role exactly its privileges on every table (a no-op without one), and on
    `work_schema` (the projection rebuild's copies) truncation as well."""
    role = settings.DATABASE_APP_ROLE
    if not role:
        return
    connection = connections[using]
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        grantee = sql.Identifier(role)
        cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA public, {} TO {}").format(
            sql.Identifier(work_schema), grantee))
        for table in tables:
            cursor.execute(sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(sql.Identifier(table), grantee))
            if RESTRICTED.get(table) == "":
                continue
            cursor.execute(sql.SQL("GRANT {} ON TABLE {} TO {}").format(
                sql.SQL(RESTRICTED.get(table, READ_WRITE)), sql.Identifier(table), grantee))
        cursor.execute(sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(grantee))
        for table, column in HISTORY_SEQUENCES:
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
            sequence = cursor.fetchone()[0]
            if sequence:
                cursor.execute(sql.SQL("REVOKE ALL ON SEQUENCE {} FROM {}").format(sql.SQL(sequence), grantee))
                cursor.execute(sql.SQL("GRANT SELECT ON SEQUENCE {} TO {}").format(sql.SQL(sequence), grantee))
        for function in (*HISTORY_WRITERS, *KEY_FUNCTIONS):
            cursor.execute("SELECT to_regprocedure(%s)", [function])
            if cursor.fetchone()[0]:  # absent while migrations stop short of 0012
                cursor.execute(sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(sql.SQL(function), grantee))
        cursor.execute(sql.SQL("GRANT {}, TRUNCATE ON ALL TABLES IN SCHEMA {} TO {}").format(
            sql.SQL(READ_WRITE), sql.Identifier(work_schema), grantee))
