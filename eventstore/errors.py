"""Typed errors of the event store. Every one of them means nothing was written."""


class EventStoreError(Exception):
    """Base class of every event store error."""


class WrongExpectedVersion(EventStoreError):
    """Optimistic concurrency conflict: the stream is not at the version the caller expected."""

    def __init__(self, stream_id: str, expected, actual: int | None):
        self.stream_id = stream_id
        self.expected = expected
        self.actual_version = actual
        shown = getattr(expected, "name", expected)
        actual_text = "does not exist" if actual is None else f"is at version {actual}"
        super().__init__(f"Stream {stream_id!r} {actual_text}; the append expected {shown}.")


class IdempotencyConflict(EventStoreError):
    """An event id is already stored with other content (or only part of a batch was stored)."""


class InvalidEvent(EventStoreError):
    """The events or their stream id are malformed: nothing was written."""


class EventTooLarge(InvalidEvent):
    """An event's encoded data and metadata exceed EVENTSTORE_MAX_EVENT_BYTES."""


class BatchTooLarge(InvalidEvent):
    """A batch has more events than EVENTSTORE_MAX_BATCH_EVENTS."""


class CommandOnlyAggregate(EventStoreError):
    """The aggregate type is written only through its command workflow (`registry.command_workflow`):
    a generic append of it is refused and writes nothing."""

    def __init__(self, aggregate_type: str, command_workflow: str):
        self.aggregate_type = aggregate_type
        self.command_workflow = command_workflow
        super().__init__(f"{aggregate_type} events are written only by their commands, through the workflow "
                         f"{command_workflow}; this append was refused and nothing was written.")
