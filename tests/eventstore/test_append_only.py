"""Invariant 1: the database itself refuses to change or remove events, whoever asks."""

import psycopg
import pytest

from eventstore.events import ANY
from eventstore.store import append_events
from tests.eventstore.helpers import payment_events

pytestmark = pytest.mark.django_db(transaction=True)

REFUSED = [
    "UPDATE eventstore_event SET data = '{\"amount\": \"1000000.00\"}'",
    "UPDATE eventstore_event SET position = position + 1000",
    "DELETE FROM eventstore_event",
    "DELETE FROM eventstore_event WHERE version = 2",
    "TRUNCATE eventstore_event",
    "TRUNCATE eventstore_event CASCADE",
    "DELETE FROM eventstore_stream",
    "TRUNCATE eventstore_stream",
    "UPDATE eventstore_stream SET version = 1",
    "UPDATE eventstore_stream SET head_hash = 'forged'",
]


@pytest.fixture
def history():
    append_events(stream_id="payment-1", aggregate_type="Payment", events=payment_events(3), expected_version=ANY)


@pytest.mark.parametrize("statement", REFUSED)
def test_plain_sql_cannot_rewrite_history(history, statement, plain_connection, stored_count):
    with plain_connection() as plain:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only|only move forward"):
            plain.execute(statement)
        rows = plain.execute("SELECT count(*), max(version) FROM eventstore_event").fetchone()
    assert rows == (3, 3)
    assert stored_count() == 3


def test_the_stream_head_follows_appends_and_any_other_insert(history, plain_connection):
    """The append moves its head itself; an insert that bypasses it (only the owner may) still moves
    the head through the trigger, in the same transaction as an append too."""
    head = "SELECT version, head_position, head_hash FROM eventstore_stream WHERE stream_id = %s"
    newest = "SELECT version, position, hash FROM eventstore_event WHERE stream_id = %s ORDER BY version DESC LIMIT 1"
    by_hand = (
        "INSERT INTO eventstore_event (event_id, stream_id, aggregate_type, version, event_type, data, metadata,"
        " recorded_at, prev_hash, hash) SELECT gen_random_uuid(), stream_id, aggregate_type, version + 1, event_type,"
        " data, metadata, now(), hash, repeat('f', 64) FROM eventstore_event WHERE stream_id = 'payment-1'"
        " ORDER BY version DESC LIMIT 1"
    )
    with plain_connection() as owner:
        assert owner.execute(head, ["payment-1"]).fetchone() == owner.execute(newest, ["payment-1"]).fetchone()
        with owner.transaction():
            owner.execute("SELECT eventstore_append('payment-2', 'Payment', -1, ARRAY[gen_random_uuid()],"
                          " ARRAY['PaymentProcessed'], ARRAY['{}'], ARRAY['{}'])")
            owner.execute(by_hand)
        assert owner.execute(head, ["payment-1"]).fetchone()[0] == 4
        for stream_id in ("payment-1", "payment-2"):
            assert owner.execute(head, [stream_id]).fetchone() == owner.execute(newest, [stream_id]).fetchone()
