"""Large batches are stored in chunks, each validated while the one before is stored, in one
transaction: the same result as one statement, all or nothing, idempotent, one hash chain."""

import dataclasses

import pytest

from eventstore import store
from eventstore.errors import IdempotencyConflict, InvalidEvent, WrongExpectedVersion
from eventstore.events import ANY, NO_STREAM
from eventstore.integrity.verification import verify_event_chain
from eventstore.models import Event, Stream
from tests.eventstore.helpers import payment_events

pytestmark = pytest.mark.django_db(transaction=True)  # chunks are only sent outside a caller's transaction

CHUNK = 3


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(store, "PIPELINED_CHUNK_EVENTS", CHUNK)


def append(events, expected=ANY, stream_id="payment-1"):
    return store.append_events(stream_id=stream_id, aggregate_type="Ledger", events=events, expected_version=expected)


def test_a_batch_of_many_chunks_is_one_transaction_with_one_chain(monkeypatch):
    first = append(payment_events(2), NO_STREAM)

    def one_statement_path(*args, **kwargs):
        raise AssertionError("the batch was not stored in chunks")

    monkeypatch.setattr(store, "_append_batch", one_statement_path)
    result = append(payment_events(10), 2)

    events = first.events + result.events
    assert [event.version for event in result.events] == list(range(3, 13)) and result.version == 12
    assert [event.prev_hash for event in events[1:]] == [event.hash for event in events[:-1]]
    assert len({event.transaction_id for event in result.events}) == 1
    assert [event.recorded_at for event in result.events] == sorted(event.recorded_at for event in result.events)
    stored = list(Event.objects.filter(stream_id="payment-1").order_by("version").values_list("event_id", "hash"))
    assert stored == [(event.event_id, event.hash) for event in events]
    head = Stream.objects.get(stream_id="payment-1")
    assert (head.version, head.head_hash, head.head_position) == (12, events[-1].hash, events[-1].position)
    assert verify_event_chain().ok


def test_an_invalid_event_in_a_late_chunk_writes_nothing():
    events = payment_events(10)
    events[8] = dataclasses.replace(events[8], data={**events[8].data, "amount": 1.5})

    with pytest.raises(InvalidEvent, match=r"events\[8\]\.data\.amount is a float"):
        append(events)
    assert not Event.objects.exists() and not Stream.objects.exists()


def test_a_wrong_expected_version_writes_nothing():
    append(payment_events(2))

    with pytest.raises(WrongExpectedVersion):
        append(payment_events(10), 1)
    assert Event.objects.count() == 2


def test_a_resent_batch_returns_the_stored_one_and_writes_nothing():
    events = payment_events(10)
    stored = append(events)

    again = append(events)

    assert again.already_stored and again.events == stored.events
    assert Event.objects.count() == 10


def test_an_event_id_repeated_in_another_chunk_writes_nothing():
    events = payment_events(10)
    events[7] = dataclasses.replace(events[7], event_id=events[1].event_id)

    with pytest.raises(InvalidEvent, match="repeats an event id"):
        append(events)
    assert not Event.objects.exists()


def test_a_resent_batch_with_other_content_in_a_late_chunk_is_refused():
    events = payment_events(10)
    append(events)
    events[9] = dataclasses.replace(events[9], metadata={"correlation_id": "another"})

    with pytest.raises(IdempotencyConflict):
        append(events)
    assert Event.objects.count() == 10
