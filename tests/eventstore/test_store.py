import datetime as dt
import uuid
from decimal import Decimal

import pytest

from eventstore import selectors
from eventstore.encoding import GENESIS_HASH
from eventstore.errors import (
    BatchTooLarge,
    EventTooLarge,
    IdempotencyConflict,
    InvalidEvent,
    WrongExpectedVersion,
)
from eventstore.events import ANY, NO_STREAM, STREAM_EXISTS, NewEvent
from eventstore.integrity.verification import verify_event_chain
from eventstore.models import Event, Stream
from eventstore.store import append_events
from tests.eventstore.helpers import payment_events

pytestmark = pytest.mark.django_db

UNCHECKED = "Ledger"  # an aggregate type that declares no event schemas: the store's own rules alone apply


def append(events, expected=ANY, stream_id="payment-1"):
    return append_events(stream_id=stream_id, aggregate_type=UNCHECKED, events=events, expected_version=expected)


def test_append_numbers_versions_and_chains_hashes():
    first = append(payment_events(2), NO_STREAM)
    second = append(payment_events(1, event_type="PaymentRefunded"), 2)

    events = first.events + second.events
    assert [event.version for event in events] == [1, 2, 3]
    assert second.version == 3 and not second.already_stored
    assert events[0].prev_hash == GENESIS_HASH
    assert [event.prev_hash for event in events[1:]] == [event.hash for event in events[:-1]]
    assert [event.position for event in events] == sorted(event.position for event in events)
    assert all(event.recorded_at.tzinfo is not None for event in events)
    head = Stream.objects.get(stream_id="payment-1")
    assert (head.version, head.head_hash, head.head_position) == (3, events[-1].hash, events[-1].position)


@pytest.mark.parametrize(
    "existing, expected, accepted",
    [
        (0, NO_STREAM, True),
        (0, 0, True),
        (0, ANY, True),
        (0, STREAM_EXISTS, False),
        (0, 1, False),
        (2, NO_STREAM, False),
        (2, STREAM_EXISTS, True),
        (2, ANY, True),
        (2, 2, True),
        (2, 1, False),
        (2, 3, False),
    ],
)
def test_expected_version(existing, expected, accepted, stored_count):
    if existing:
        append(payment_events(existing))
    before = stored_count()
    if accepted:
        assert append(payment_events(1), expected).version == existing + 1
        return
    with pytest.raises(WrongExpectedVersion) as raised:
        append(payment_events(1), expected)
    assert raised.value.actual_version == (existing or None)
    assert "payment-1" in str(raised.value)
    assert stored_count() == before


def test_retry_of_a_stored_batch_returns_it_and_writes_nothing(stored_count):
    batch = payment_events(3)
    original = append(batch, NO_STREAM)
    append(payment_events(1), 3)  # the stream moves on before the retry arrives

    retried = append(batch, NO_STREAM)

    assert retried.already_stored
    assert retried.events == original.events
    assert stored_count() == 4


def test_retry_with_any_returns_the_stored_batch(stored_count):
    batch = payment_events(2)
    original = append(batch)
    assert append(batch).events == original.events
    assert stored_count() == 2


def test_same_event_id_with_other_content_is_refused(stored_count):
    event = NewEvent("PaymentProcessed", {"amount": "1.00"})
    append([event])
    with pytest.raises(IdempotencyConflict, match="other content"):
        append([NewEvent("PaymentProcessed", {"amount": "2.00"}, event_id=event.event_id)])
    assert stored_count() == 1


def test_batch_partly_stored_is_refused(stored_count):
    stored = payment_events(1)
    append(stored)
    with pytest.raises(IdempotencyConflict, match="1 of the 2"):
        append(stored + payment_events(1))
    assert stored_count() == 1


def test_event_id_stored_in_another_stream_is_refused():
    event = payment_events(1)[0]
    append([event], stream_id="payment-a")
    with pytest.raises(IdempotencyConflict):
        append([event], stream_id="payment-b")
    assert not Event.objects.filter(stream_id="payment-b").exists()


def test_batch_is_all_or_nothing():
    taken = payment_events(1)[0]
    append([taken], stream_id="payment-other")
    batch = payment_events(2) + [taken]
    with pytest.raises(IdempotencyConflict):
        append(batch, NO_STREAM)
    assert not Event.objects.filter(stream_id="payment-1").exists()
    assert not Stream.objects.filter(stream_id="payment-1").exists()


def test_decimals_are_stored_as_strings():
    result = append([NewEvent("PaymentProcessed", {"amount": Decimal("10.50"), "lines": [Decimal("0.001")]})])
    stored = Event.objects.get(position=result.events[0].position)
    assert stored.data == {"amount": "10.50", "lines": ["0.001"]}


def big_payload():
    return {"blob": "x" * (64 * 1024)}


def nested(levels: int) -> dict:
    """An object whose objects nest `levels` deep, itself included."""
    value: dict = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


BAD_INPUT = [
    ("empty stream id", dict(stream_id=""), InvalidEvent),
    ("blank stream id", dict(stream_id="   "), InvalidEvent),
    ("over-long stream id", dict(stream_id="p" * 201), InvalidEvent),
    ("control character in stream id", dict(stream_id="payment\n1"), InvalidEvent),
    ("non-string stream id", dict(stream_id=123), InvalidEvent),
    ("empty aggregate type", dict(aggregate_type=""), InvalidEvent),
    ("no events", dict(events=[]), InvalidEvent),
    ("not a NewEvent", dict(events=[{"event_type": "X"}]), InvalidEvent),
    ("empty event type", dict(events=[NewEvent("", {})]), InvalidEvent),
    ("float amount", dict(events=[NewEvent("PaymentProcessed", {"amount": 10.5})]), InvalidEvent),
    ("nested float", dict(events=[NewEvent("PaymentProcessed", {"lines": [{"amount": 0.1}]})]), InvalidEvent),
    ("float in metadata", dict(events=[NewEvent("PaymentProcessed", {}, {"weight": 1.5})]), InvalidEvent),
    ("datetime", dict(events=[NewEvent("PaymentProcessed", {"at": dt.datetime.now(dt.UTC)})]), InvalidEvent),
    ("set", dict(events=[NewEvent("PaymentProcessed", {"ids": {1, 2}})]), InvalidEvent),
    ("non-string key", dict(events=[NewEvent("PaymentProcessed", {1: "a"})]), InvalidEvent),
    ("NUL character", dict(events=[NewEvent("PaymentProcessed", {"note": "a\x00b"})]), InvalidEvent),
    ("NaN decimal", dict(events=[NewEvent("PaymentProcessed", {"amount": Decimal("NaN")})]), InvalidEvent),
    ("data not an object", dict(events=[NewEvent("PaymentProcessed", ["a"])]), InvalidEvent),
    ("malformed event id", dict(events=[NewEvent("PaymentProcessed", {}, event_id="not-a-uuid")]), InvalidEvent),
    ("repeated event id", dict(events=[NewEvent("A", {}, event_id=uuid.UUID(int=1))] * 2), InvalidEvent),
    ("negative expected version", dict(expected_version=-1), InvalidEvent),
    ("boolean expected version", dict(expected_version=True), InvalidEvent),
    ("payload over 64 KiB", dict(events=[NewEvent("PaymentProcessed", big_payload())]), EventTooLarge),
    ("nesting 500 levels deep", dict(events=[NewEvent("PaymentProcessed", nested(500))]), InvalidEvent),
    ("nesting in metadata", dict(events=[NewEvent("PaymentProcessed", {}, {"a": [nested(40)]})]), InvalidEvent),
    ("integer of 5,000 digits", dict(events=[NewEvent("PaymentProcessed", {"n": 10**4999})]), InvalidEvent),
    ("negative integer of 19 digits", dict(events=[NewEvent("PaymentProcessed", {"n": -(10**18)})]), InvalidEvent),
    ("lone surrogate in a value", dict(events=[NewEvent("PaymentProcessed", {"note": "a\ud800b"})]), InvalidEvent),
    ("lone surrogate in a key", dict(events=[NewEvent("PaymentProcessed", {"\udc00": "a"})]), InvalidEvent),
    ("lone surrogate in metadata", dict(events=[NewEvent("PaymentProcessed", {}, {"user": ["\udfff"]})]), InvalidEvent),
    ("NUL character in a key", dict(events=[NewEvent("PaymentProcessed", {"a\x00b": "c"})]), InvalidEvent),
    ("NUL character in a metadata key", dict(events=[NewEvent("PaymentProcessed", {}, {"\x00": 1})]), InvalidEvent),
]


@pytest.mark.parametrize("label, override, error", BAD_INPUT, ids=[case[0] for case in BAD_INPUT])
def test_bad_input_is_refused_and_writes_nothing(label, override, error, stored_count):
    arguments = dict(stream_id="payment-1", aggregate_type=UNCHECKED, events=payment_events(1), expected_version=ANY)
    arguments.update(override)
    with pytest.raises(error):
        append_events(**arguments)
    assert stored_count() == 0
    assert Stream.objects.count() == 0


def test_batch_over_the_configured_count_is_refused(settings, stored_count):
    settings.EVENTSTORE_MAX_BATCH_EVENTS = 10
    with pytest.raises(BatchTooLarge, match="at most 10"):
        append(payment_events(11))
    assert stored_count() == 0


def test_event_size_limit_is_configurable(settings, stored_count):
    settings.EVENTSTORE_MAX_EVENT_BYTES = 100
    with pytest.raises(EventTooLarge, match="limit is 100"):
        append([NewEvent("PaymentProcessed", {"note": "n" * 200})])
    append([NewEvent("PaymentProcessed", {"note": "short"})])
    assert stored_count() == 1


def test_nesting_limit_is_configurable_and_32_by_default(settings, stored_count):
    append([NewEvent("Noted", nested(32))])
    with pytest.raises(InvalidEvent, match=r"events\[0\]\.data(\.a){32} nests objects and arrays deeper than 32"):
        append([NewEvent("Noted", nested(33))])
    settings.EVENTSTORE_MAX_JSON_DEPTH = 2
    with pytest.raises(InvalidEvent, match="deeper than 2 levels"):
        append([NewEvent("Noted", {"lines": [{"amount": "1.00"}]})])
    assert stored_count() == 1


def test_integer_size_limit_is_configurable(settings, stored_count):
    append([NewEvent("Noted", {"n": 10**18 - 1, "m": -(10**18 - 1)})])
    with pytest.raises(InvalidEvent, match=r"events\[0\]\.data\.n is an integer of more than 18 digits"):
        append([NewEvent("Noted", {"n": 10**18})])
    settings.EVENTSTORE_MAX_INTEGER_DIGITS = 30
    append([NewEvent("Noted", {"n": 10**29})])
    assert stored_count() == 2


def test_a_message_about_a_key_with_a_lone_surrogate_is_itself_valid_text():
    with pytest.raises(InvalidEvent) as raised:
        append([NewEvent("Noted", {"ok": {"caf\udce9": "x"}})])
    message = str(raised.value)
    assert message.encode()  # no lone surrogate in it: it can cross Temporal and the API
    assert message.startswith("events[0].data.ok has a key 'caf\\udce9' that contains a lone surrogate")


def test_stream_version_reads_the_head():
    assert selectors.stream_version("payment-1") is None
    append(payment_events(3))
    assert selectors.stream_version("payment-1") == 3


@pytest.mark.django_db(transaction=True)
def test_recorded_at_never_goes_back_within_a_stream_when_the_database_clock_does(tamper):
    first = append(payment_events(1)).events[0]
    ahead = first.recorded_at + dt.timedelta(hours=1)
    # The stream was last updated an hour later than the database clock now reads (the clock stepped back).
    tamper(f"UPDATE eventstore_stream SET updated_at = '{ahead.isoformat()}' WHERE stream_id = 'payment-1'")

    later = append(payment_events(2)).events
    elsewhere = append(payment_events(1), stream_id="payment-2").events[0]

    assert [event.recorded_at for event in later] == [ahead, ahead]
    assert list(Event.objects.filter(stream_id="payment-1").order_by("version").values_list("recorded_at", flat=True)) == [
        first.recorded_at, ahead, ahead]
    assert first.recorded_at <= elsewhere.recorded_at < ahead, "another stream keeps the database clock"
    assert verify_event_chain(seal=False).ok, "the hash covers the time that was stored"
