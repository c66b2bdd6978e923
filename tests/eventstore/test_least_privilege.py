"""The application role can append and read history but cannot rewrite it, even with raw SQL."""

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from eventstore.models import Event, Stream
from eventstore.events import ANY
from eventstore.store import append_events
from tests.eventstore.helpers import payment_events
from tests.processes import command_env, database_url, manage

pytestmark = pytest.mark.django_db(transaction=True)

# Each attempt and the refusal it must meet. Events, seals and stream heads also have triggers that
# refuse changes to everyone with the same SQLSTATE; the message tells whose refusal it was, so a
# privilege granted by mistake cannot hide behind the trigger.
REWRITES = {
    "update an event": ("UPDATE eventstore_event SET data = '{}'::jsonb", "permission denied for table eventstore_event"),
    "delete an event": ("DELETE FROM eventstore_event", "permission denied for table eventstore_event"),
    "truncate events": ("TRUNCATE eventstore_event", "permission denied for table eventstore_event"),
    "move a stream head": (
        "UPDATE eventstore_stream SET version = version + 1", "permission denied for table eventstore_stream"
    ),
    "delete a stream head": ("DELETE FROM eventstore_stream", "permission denied for table eventstore_stream"),
    "delete a seal": ("DELETE FROM eventstore_seal", "permission denied for table eventstore_seal"),
    "truncate seals": ("TRUNCATE eventstore_seal CASCADE", "permission denied for table eventstore_seal"),
    "delete a verification record": (
        "DELETE FROM eventstore_chainverification", "permission denied for table eventstore_chainverification"
    ),
    "disable the triggers": ("ALTER TABLE eventstore_event DISABLE TRIGGER ALL", "must be owner of table eventstore_event"),
    "drop a trigger": (
        "DROP TRIGGER eventstore_event_no_update_delete ON eventstore_event", "must be owner of relation eventstore_event"
    ),
    "replace the trigger function": (
        "CREATE OR REPLACE FUNCTION eventstore_reject_change() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN RETURN NEW; END; $$",
        "permission denied for schema public",
    ),
    "switch triggers off for the session": (
        "SET session_replication_role = replica", 'permission denied to set parameter "session_replication_role"'
    ),
    "drop the events table": ("DROP TABLE eventstore_event", "must be owner of table eventstore_event"),
    "add a column": ("ALTER TABLE eventstore_event ADD COLUMN note text", "must be owner of table eventstore_event"),
    "create a table": ("CREATE TABLE public.shadow_events (LIKE eventstore_event)", "permission denied for schema public"),
    "reset the position sequence": (
        "SELECT setval('eventstore_event_position_seq', 1)",
        "permission denied for sequence eventstore_event_position_seq",
    ),
    "mark a migration unapplied": ("DELETE FROM django_migrations", "permission denied for table django_migrations"),
    "grant itself UPDATE, then update": (
        "GRANT UPDATE ON eventstore_event TO CURRENT_USER; UPDATE eventstore_event SET data = '{}'::jsonb",
        "permission denied for table eventstore_event",
    ),
    "take over the owner role": ("SET ROLE payments_owner", 'permission denied to set role "payments_owner"'),
}

# Privileges the application role must not hold, read from the catalog: apart from the triggers, which
# refuse some of the same changes and would hide a grant made by mistake.
NOT_GRANTED = {
    "eventstore_event": {"UPDATE", "DELETE"},
    "eventstore_stream": {"INSERT", "UPDATE", "DELETE"},
    "eventstore_seal": {"UPDATE", "DELETE"},
    "eventstore_chainverification": {"UPDATE", "DELETE"},
    "django_migrations": {"INSERT", "UPDATE", "DELETE"},
}
NOT_GRANTED_ON_ANY_TABLE = {"TRUNCATE", "REFERENCES", "TRIGGER"}
GRANTABLE_PER_COLUMN = {"INSERT", "UPDATE", "REFERENCES"}


@pytest.fixture
def app_role():
    role = settings.DATABASE_APP_ROLE
    assert role, "the suite expects an application role (DATABASE_APP_ROLE)"
    return role


@pytest.mark.parametrize("attempt, refusal", REWRITES.values(), ids=REWRITES.keys())
def test_the_application_role_cannot_rewrite_history(app_role, attempt, refusal, plain_connection):
    append_events(stream_id="payment-guarded", aggregate_type="Payment", events=payment_events(2), expected_version=ANY)
    before = list(Event.objects.values_list("position", "hash", "data"))
    heads = list(Stream.objects.values_list("stream_id", "version", "head_hash"))

    with plain_connection(role=app_role) as app, pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
        app.execute(attempt)

    assert refused.value.diag.message_primary == refusal

    assert list(Event.objects.values_list("position", "hash", "data")) == before
    assert list(Stream.objects.values_list("stream_id", "version", "head_hash")) == heads


def test_the_application_role_holds_no_privilege_to_change_history(app_role):
    held = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [table for (table,) in cursor.fetchall()]
        for table in tables:
            for privilege in sorted(NOT_GRANTED.get(table, set()) | NOT_GRANTED_ON_ANY_TABLE):
                cursor.execute(
                    "SELECT has_table_privilege(%(role)s, %(table)s, %(privilege)s)"
                    " OR (%(per_column)s AND has_any_column_privilege(%(role)s, %(table)s, %(privilege)s))",
                    {"role": app_role, "table": f'public."{table}"', "privilege": privilege,
                     "per_column": privilege in GRANTABLE_PER_COLUMN},
                )
                if cursor.fetchone()[0]:
                    held.append(f"{privilege} on {table}")
        cursor.execute("SELECT has_sequence_privilege(%s, 'eventstore_event_position_seq', 'UPDATE')", [app_role])
        if cursor.fetchone()[0]:
            held.append("UPDATE on eventstore_event_position_seq")
        cursor.execute(
            "SELECT has_table_privilege(%(role)s, 'eventstore_event', 'SELECT'),"
            " has_table_privilege(%(role)s, 'payments_paymentsummary', 'UPDATE')", {"role": app_role},
        )
        reads_history_and_writes_read_models = cursor.fetchone()

    assert set(NOT_GRANTED) <= set(tables)
    assert held == []
    assert reads_history_and_writes_read_models == (True, True)


def test_the_application_role_owns_nothing_and_holds_no_special_attributes(app_role):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolreplication FROM pg_roles WHERE rolname = %s",
            [app_role],
        )
        assert cursor.fetchone() == (False, False, False, False, False)
        cursor.execute(
            "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = %s)", [app_role]
        )
        assert cursor.fetchone() == (0,)
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proowner = (SELECT oid FROM pg_roles WHERE rolname = %s)", [app_role])
        assert cursor.fetchone() == (0,)


def test_the_application_role_appends_through_the_store_and_moves_heads_only_that_way(app_role, plain_connection):
    with plain_connection(role=app_role) as app:
        app.execute(
            "SELECT * FROM eventstore_append('payment-by-app', 'Payment', -1, ARRAY[gen_random_uuid()],"
            " ARRAY['PaymentProcessed'], ARRAY['{\"amount\": \"5.00\"}'], ARRAY['{}'])"
        )
        assert app.execute("SELECT version FROM eventstore_stream WHERE stream_id = 'payment-by-app'").fetchone() == (1,)
        app.execute("UPDATE payments_paymentsummary SET status = status")  # read models stay writable
    assert Event.objects.filter(stream_id="payment-by-app").count() == 1


def test_worker_processes_run_as_the_application_role(app_role):
    """Every process the suite starts (workers, projection runners, the chaos run) uses this URL."""
    assert f"postgres://{app_role}@" in command_env()["DATABASE_URL"]


def test_migrate_switches_to_the_owner_role_and_grants_the_application_role(app_role, plain_connection):
    """Run as the application role alone, migrate cannot grant; with DATABASE_OWNER_URL it can."""
    with connection.cursor() as cursor:
        cursor.execute(f'REVOKE ALL ON TABLE payments_paymentsummary FROM "{app_role}"')
    owner = database_url()  # the suite's role owns the test database's tables
    migrated = manage("migrate", "--noinput", env=command_env(DATABASE_OWNER_URL=owner, DATABASE_APP_ROLE=app_role))
    output, _ = migrated.communicate(timeout=120)
    assert migrated.returncode == 0, output

    with plain_connection(role=app_role) as app:
        assert app.execute("SELECT count(*) FROM payments_paymentsummary").fetchone() == (0,)


def test_migrate_as_the_application_role_refuses_with_a_clear_message(app_role):
    migrated = manage("migrate", "--noinput", env=command_env(DATABASE_APP_ROLE=app_role))
    output, _ = migrated.communicate(timeout=120)
    assert migrated.returncode == 1
    assert "DATABASE_OWNER_URL" in output
    assert "Traceback" not in output


def test_projection_rebuilds_run_as_the_application_role_without_schema_rights(
    app_role, random_lives, assert_summaries_match_a_fold_of_the_events
):
    from payments.models import PaymentSummary

    random_lives(20)
    rebuilt = manage("rebuild_projections", "--no-progress", env=command_env())
    output, _ = rebuilt.communicate(timeout=120)

    assert rebuilt.returncode == 0, output
    assert PaymentSummary.objects.count() == 20
    assert_summaries_match_a_fold_of_the_events()
