"""The application role can append and read history but cannot write or rewrite it by hand, even
with raw SQL: history is written only through the store's SECURITY DEFINER functions."""

import uuid
from datetime import datetime, timezone

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from eventstore.encoding import canonical_json, event_hash
from eventstore.events import ANY
from eventstore.integrity.models import ChainVerification, Seal
from eventstore.models import Event, Stream
from eventstore.privileges import HISTORY_WRITERS
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
    "forge a ledger node": (
        "INSERT INTO eventstore_ledgernode (level, index, hash) VALUES (9, 9, '\\x00')",
        "permission denied for table eventstore_ledgernode",
    ),
    "delete a signed head": ("DELETE FROM eventstore_treehead", "permission denied for table eventstore_treehead"),
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
    "insert a seal": (
        "INSERT INTO eventstore_seal (sealed_at, transaction_horizon, event_count, events_digest, prev_hash, hash)"
        f" VALUES ('2001-01-01', 1, 0, '{'0' * 64}', '{'0' * 64}', '{'1' * 64}')",
        "permission denied for table eventstore_seal",
    ),
    "insert an ok verification record": (
        "INSERT INTO eventstore_chainverification"
        " (ran_at, ok, events_checked, streams_checked, problem_count, problems, seal_hash)"
        " VALUES ('2999-01-01', true, 1000000, 1000, 0, '', '')",
        "permission denied for table eventstore_chainverification",
    ),
    "draw a position from the sequence": (
        "SELECT nextval('eventstore_event_position_seq')",
        "permission denied for sequence eventstore_event_position_seq",
    ),
    "insert an event numbered by the sequence": (
        "INSERT INTO eventstore_event (event_id, stream_id, aggregate_type, version, event_type, data, metadata,"
        " recorded_at, prev_hash, hash) VALUES (gen_random_uuid(), 'payment-forged', 'Payment', 1,"
        f" 'PaymentProcessed', '{{}}', '{{}}', now(), '{'0' * 64}', '{'1' * 64}')",
        "permission denied for table eventstore_event",
    ),
}

# Privileges the application role must not hold, read from the catalog: apart from the triggers, which
# refuse some of the same changes and would hide a grant made by mistake.
NOT_GRANTED = {  # history is written only through the SECURITY DEFINER functions, hence no INSERT
    "eventstore_event": {"INSERT", "UPDATE", "DELETE"},
    "eventstore_stream": {"INSERT", "UPDATE", "DELETE"},
    "eventstore_seal": {"INSERT", "UPDATE", "DELETE"},
    "eventstore_chainverification": {"INSERT", "UPDATE", "DELETE"},
    "eventstore_ledgerentry": {"INSERT", "UPDATE", "DELETE"},
    "eventstore_ledgernode": {"INSERT", "UPDATE", "DELETE"},
    "eventstore_ledgerstream": {"INSERT", "UPDATE", "DELETE"},
    "eventstore_ledgerstreamnode": {"INSERT", "UPDATE", "DELETE"},
    "eventstore_treehead": {"INSERT", "UPDATE", "DELETE"},
    "eventstore_keystatement": {"INSERT", "UPDATE", "DELETE"},
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
    assert not Seal.objects.exists() and not ChainVerification.objects.exists()


def test_the_application_role_cannot_insert_a_forged_event_even_with_a_valid_hash(app_role, plain_connection):
    """A row that chains correctly onto the stream, with a hash computed over its own fields, from a
    time long past and a position the sequence never handed out."""
    append_events(stream_id="payment-guarded", aggregate_type="Payment", events=payment_events(2), expected_version=ANY)
    newest = Event.objects.get(stream_id="payment-guarded", version=2)
    forged = dict(position=-999, event_id=str(uuid.uuid4()), stream_id="payment-guarded", aggregate_type="Payment",
                  version=3, event_type="PaymentRefunded", recorded_at=datetime(2001, 1, 1, tzinfo=timezone.utc))
    data, metadata = {"amount": "1.00", "currency": "EUR"}, {"correlation_id": "corr-1"}
    valid_hash = event_hash(prev_hash=newest.hash, data_json=canonical_json(data),
                            metadata_json=canonical_json(metadata), **forged)

    with plain_connection(role=app_role) as app, pytest.raises(psycopg.errors.InsufficientPrivilege):
        app.execute(
            "INSERT INTO eventstore_event (position, event_id, stream_id, aggregate_type, version, event_type, data,"
            " metadata, recorded_at, prev_hash, hash) VALUES (%(position)s, %(event_id)s, %(stream_id)s,"
            " %(aggregate_type)s, %(version)s, %(event_type)s, %(data)s, %(metadata)s, %(recorded_at)s,"
            " %(prev_hash)s, %(hash)s)",
            {**forged, "data": canonical_json(data), "metadata": canonical_json(metadata),
             "prev_hash": newest.hash, "hash": valid_hash},
        )

    assert Event.objects.filter(stream_id="payment-guarded").count() == 2
    assert Stream.objects.get(stream_id="payment-guarded").version == 2


def test_history_is_written_only_through_definer_functions_that_pin_their_search_path(app_role):
    with connection.cursor() as cursor:
        for function in HISTORY_WRITERS:
            cursor.execute(
                "SELECT p.prosecdef, p.proconfig, pg_get_userbyid(p.proowner),"
                " has_function_privilege(%s, p.oid, 'EXECUTE'),"
                " EXISTS (SELECT FROM aclexplode(p.proacl) AS acl WHERE acl.grantee = 0)"
                " FROM pg_proc AS p WHERE p.oid = to_regprocedure(%s)",
                [app_role, function],
            )
            definer, config, owner, app_may_execute, public_may_execute = cursor.fetchone()
            assert definer, function
            assert "search_path=pg_catalog, public, pg_temp" in config, function
            assert owner != app_role and app_may_execute and not public_may_execute, function


def test_the_definer_functions_stamp_what_the_caller_cannot_choose(app_role, plain_connection):
    """As the application role: a verification run records a seal and its record; a seal whose
    count is not the store's, or an "ok" record that reports problems, is refused."""
    append_events(stream_id="payment-sealed", aggregate_type="Payment", events=payment_events(3), expected_version=ANY)
    verified = manage("verify_event_chain", "--no-progress", env=command_env())
    output, _ = verified.communicate(timeout=120)
    assert verified.returncode == 0, output

    seal = Seal.objects.get()
    record = ChainVerification.objects.get()
    assert (seal.event_count, record.ok, record.events_checked, record.seal_hash) == (3, True, 3, seal.hash)
    with plain_connection(role=app_role) as app:
        with pytest.raises(psycopg.errors.CheckViolation, match="does not match the store"):
            app.execute("SELECT eventstore_record_seal(%s, 1000, %s)", [seal.transaction_horizon, "a" * 64])
        with pytest.raises(psycopg.errors.CheckViolation, match="ok exactly when it reports no problem"):
            app.execute("SELECT eventstore_record_verification(true, 3, 1, 2, 'payment-sealed v2: edited',"
                        " 'full', NULL, 10, NULL, 3, NULL, NULL)")
        with pytest.raises(psycopg.errors.CheckViolation, match="full .from the start. or incremental"):
            app.execute("SELECT eventstore_record_verification(true, 3, 1, 0, '', 'incremental', NULL, 10, NULL, 3,"
                        " NULL, NULL)")
        app.execute("SELECT eventstore_record_verification(false, 3, 1, 1, 'payment-sealed v2: edited',"
                    " 'full', NULL, 10, NULL, 3, NULL, NULL)")
        stamped = app.execute("SELECT ran_at > now() - interval '1 minute', seal_hash FROM eventstore_chainverification"
                              " ORDER BY id DESC LIMIT 1").fetchone()
    assert stamped == (True, seal.hash)
    assert Seal.objects.count() == 1


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
        for privilege in ("UPDATE", "USAGE"):  # setval; nextval
            cursor.execute("SELECT has_sequence_privilege(%s, 'eventstore_event_position_seq', %s)", [app_role, privilege])
            if cursor.fetchone()[0]:
                held.append(f"{privilege} on eventstore_event_position_seq")
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
