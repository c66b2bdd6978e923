"""The store checks events of an aggregate type that declares schemas before writing them
(eventstore/schemas.py), with a schema declared here for the purpose."""

import pytest

from eventstore import registry
from eventstore.errors import InvalidEvent
from eventstore.events import ANY, NewEvent
from eventstore.registry import EventSchemas
from eventstore.store import append_events

pytestmark = pytest.mark.django_db

NOTE = {
    "type": "object",
    "required": ["text"],
    "properties": {"text": {"type": "string", "maxLength": 10},
                   "code": {"type": "string", "pattern": "^[A-Z]+$(?!\\n)", "description": "Capital letters."}},
}
registry.declare(event_schemas={"SchemaTest": EventSchemas(
    data={"Noted": NOTE, "Cleared": {"type": "object"}},
    metadata={"type": "object", "properties": {"correlation_id": {"type": "string"}}},
)})


def append(event_type: str, data: dict, metadata: dict | None = None, aggregate_type: str = "SchemaTest"):
    return append_events(stream_id="schema-1", aggregate_type=aggregate_type, expected_version=ANY,
                         events=[NewEvent(event_type, data, metadata or {})])


def test_events_that_match_are_stored():
    append("Noted", {"text": "hello", "code": "AB", "extra": [1]}, {"correlation_id": "c-1"})
    assert append("Cleared", {}).version == 2


@pytest.mark.parametrize("event_type, data, metadata, message", [
    ("Renamed", {}, {}, "events[0]: SchemaTest events are of the types Noted, Cleared; 'Renamed' is not one of them."),
    ("Noted", {}, {}, 'events[0] (Noted) data: "text" is a required property'),
    ("Noted", {"text": 5}, {}, 'events[0] (Noted) data.text: 5 is not of type "string"'),
    ("Noted", {"text": "x" * 11}, {}, "events[0] (Noted) data.text: "),
    ("Noted", {"text": "x", "code": "ab"}, {}, "events[0] (Noted) data.code: 'ab' is not valid. Capital letters."),
    ("Noted", {"text": "x", "code": "AB\n"}, {}, "events[0] (Noted) data.code: 'AB\\n' is not valid."),
    ("Noted", {"text": "x"}, {"correlation_id": 7}, 'events[0] (Noted) metadata.correlation_id: 7 is not of type'),
], ids=["unknown event type", "required field", "type", "length", "pattern", "final newline", "metadata"])
def test_events_that_do_not_match_are_refused_naming_the_field(event_type, data, metadata, message, stored_count):
    with pytest.raises(InvalidEvent) as raised:
        append(event_type, data, metadata)
    assert str(raised.value).startswith(message)
    assert stored_count() == 0


def test_aggregate_types_that_declare_nothing_are_not_checked(stored_count):
    append("Renamed", {"text": 5}, aggregate_type="Unchecked")
    assert stored_count() == 1


def test_every_event_of_a_batch_is_checked_before_any_is_written(stored_count):
    events = [NewEvent("Noted", {"text": "fine"}), NewEvent("Noted", {"text": "fine"}), NewEvent("Noted", {})]
    with pytest.raises(InvalidEvent, match=r"^events\[2\] \(Noted\) data"):
        append_events(stream_id="schema-1", aggregate_type="SchemaTest", expected_version=ANY, events=events)
    assert stored_count() == 0

