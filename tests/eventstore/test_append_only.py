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
