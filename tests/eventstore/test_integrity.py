"""Invariant 6: verify_event_chain catches every edit, deletion, insertion and reordering."""

import hashlib
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from eventstore.events import ANY, NewEvent
from eventstore.integrity import verify_event_chain
from eventstore.store import append_events
from tests.eventstore.helpers import payment_events

pytestmark = pytest.mark.django_db(transaction=True)


def write_history():
    for stream_id in ("payment-a", "payment-b", "payment-c"):
        for _ in range(2):
            append_events(stream_id=stream_id, aggregate_type="Payment", events=payment_events(2), expected_version=ANY)


def test_database_and_python_hash_the_same_canonical_text():
    """The chain is built in SQL and re-checked in Python: awkward text must encode alike in both."""
    awkward = {
        "note": 'Zahlung für "Müller" \\ 東京 \u2028 tab\t newline\n \x01 \x7f 😀',
        "nested": {"b": [1, -2, 10**20, True, None, ""], "a": {"ü": "ß"}},
    }
    append_events(stream_id='payment-"quoted"\\-ü', aggregate_type="Zahlung", expected_version=ANY,
                  events=[NewEvent("Événement", awkward, {"correlation_id": "a/b", "user": "Ödön"})])
    report = verify_event_chain(seal=False)
    assert report.ok, report.problems


@pytest.fixture
def history():
    """Three streams of four events, verified and sealed once, as a scheduled check would.

    Returns the seal's hash, which the operator keeps outside the database.
    """
    write_history()
    seal = verify_event_chain().new_seal
    assert seal is not None
    return seal.hash


def forged_hash():
    return hashlib.sha256(b"forged").hexdigest()


TAMPERING = {
    "edited amount": ["UPDATE eventstore_event SET data = '{\"amount\": \"999.00\", \"currency\": \"EUR\"}' "
                      "WHERE stream_id = 'payment-b' AND version = 2"],
    "edited metadata": ["UPDATE eventstore_event SET metadata = '{\"correlation_id\": \"other\"}' "
                        "WHERE stream_id = 'payment-a' AND version = 1"],
    "edited time": ["UPDATE eventstore_event SET recorded_at = recorded_at - interval '1 day' "
                    "WHERE stream_id = 'payment-a' AND version = 3"],
    "edited and rehashed": ["UPDATE eventstore_event SET event_type = 'PaymentCancelled', hash = "
                            f"'{forged_hash()}' WHERE stream_id = 'payment-a' AND version = 2"],
    "deleted middle event": ["DELETE FROM eventstore_event WHERE stream_id = 'payment-b' AND version = 2"],
    "deleted newest event": ["DELETE FROM eventstore_event WHERE stream_id = 'payment-c' AND version = 4"],
    "deleted newest event and moved head back": [
        "DELETE FROM eventstore_event WHERE stream_id = 'payment-c' AND version = 4",
        "UPDATE eventstore_stream SET version = 3 WHERE stream_id = 'payment-c'",
    ],
    "deleted whole stream": ["DELETE FROM eventstore_event WHERE stream_id = 'payment-b'"],
    "deleted whole stream and its head": [
        "DELETE FROM eventstore_event WHERE stream_id = 'payment-b'",
        "DELETE FROM eventstore_stream WHERE stream_id = 'payment-b'",
    ],
    "inserted event in the middle": [
        "UPDATE eventstore_event SET version = version + 10 WHERE stream_id = 'payment-a' AND version >= 3",
        f"INSERT INTO eventstore_event (event_id, stream_id, aggregate_type, version, event_type, data, metadata,"
        f" recorded_at, transaction_id, prev_hash, hash) SELECT '{uuid.uuid4()}', stream_id, aggregate_type, 3,"
        f" 'PaymentRefunded', '{{}}', '{{}}', recorded_at, 1, hash, '{forged_hash()}' FROM eventstore_event"
        f" WHERE stream_id = 'payment-a' AND version = 2",
    ],
    "inserted event at the end": [
        f"INSERT INTO eventstore_event (event_id, stream_id, aggregate_type, version, event_type, data, metadata,"
        f" recorded_at, transaction_id, prev_hash, hash) SELECT '{uuid.uuid4()}', stream_id, aggregate_type, 5,"
        f" 'PaymentRefunded', '{{}}', '{{}}', now(), 1, hash, '{forged_hash()}' FROM eventstore_event"
        f" WHERE stream_id = 'payment-a' AND version = 4",
    ],
    "removed the newest seal": ["DELETE FROM eventstore_seal"],
    "edited a seal": ["UPDATE eventstore_seal SET event_count = event_count - 1"],
    "moved an event out of the seal": [
        "UPDATE eventstore_event SET transaction_id = transaction_id + 1000000 WHERE stream_id = 'payment-a' AND version = 1"
    ],
    "inserted stream": [
        f"INSERT INTO eventstore_event (event_id, stream_id, aggregate_type, version, event_type, data, metadata,"
        f" recorded_at, transaction_id, prev_hash, hash) VALUES ('{uuid.uuid4()}', 'payment-z', 'Payment', 1,"
        f" 'PaymentProcessed', '{{}}', '{{}}', now(), 1, '{'0' * 64}', '{forged_hash()}')",
    ],
    "reordered versions": [
        "UPDATE eventstore_event SET version = 100 WHERE stream_id = 'payment-a' AND version = 2",
        "UPDATE eventstore_event SET version = 2 WHERE stream_id = 'payment-a' AND version = 3",
        "UPDATE eventstore_event SET version = 3 WHERE stream_id = 'payment-a' AND version = 100",
    ],
    "reordered positions across streams": [
        "CREATE TEMP TABLE swap AS SELECT (SELECT position FROM eventstore_event WHERE stream_id = 'payment-a'"
        " AND version = 1) AS a, (SELECT position FROM eventstore_event WHERE stream_id = 'payment-b'"
        " AND version = 1) AS b",
        "UPDATE eventstore_event SET position = -1 WHERE position = (SELECT a FROM swap)",
        "UPDATE eventstore_event SET position = (SELECT a FROM swap) WHERE position = (SELECT b FROM swap)",
        "UPDATE eventstore_event SET position = (SELECT b FROM swap) WHERE position = -1",
    ],
}


def test_an_untouched_store_verifies_and_seals_only_what_is_new(history, capsys):
    report = verify_event_chain()
    assert report.ok, report.problems
    assert (report.events_checked, report.streams_checked, report.seals_checked) == (12, 3, 1)
    assert report.new_seal is None

    append_events(stream_id="payment-d", aggregate_type="Payment", events=payment_events(1), expected_version=ANY)
    call_command("verify_event_chain", "--no-progress")

    assert "Sealed 13 events" in capsys.readouterr().out
    assert verify_event_chain().seals_checked == 2


def test_heads_catch_a_removed_newest_event_without_any_seal(tamper):
    write_history()
    tamper("DELETE FROM eventstore_event WHERE stream_id = 'payment-c' AND version = 4")
    report = verify_event_chain()
    assert [str(problem) for problem in report.problems] == [
        "payment-c: recorded head is v4 but the events end at v3"
    ]


@pytest.mark.parametrize("tampering", TAMPERING.values(), ids=list(TAMPERING))
def test_tampering_is_detected(history, tampering, tamper):
    tamper(*tampering)

    report = verify_event_chain(expected_seal=history)

    assert not report.ok
    assert report.problems
    with pytest.raises(CommandError, match="TAMPERING DETECTED"):
        call_command("verify_event_chain", "--no-progress", "--expect-seal", history)


def test_an_unknown_expected_seal_is_reported(history):
    report = verify_event_chain(expected_seal="f" * 64)
    assert [problem.message for problem in report.problems] == [
        f"the seal {'f' * 64} kept outside the database is not in the chain of seals (history rewritten)"
    ]
