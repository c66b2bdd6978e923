"""What crosses the Temporal boundary for the event store. Pure Python, no Django.

Timestamps travel as ISO 8601 strings and ids as strings; money inside `data` is already a string.
`StoredEvent` is the one wire form of a recorded event, whichever app sends it. The activities'
signatures, names included, are in `eventstore/temporal/activity_signatures.py`.
"""

from dataclasses import dataclass, field

from eventstore.events import RecordedEvent
from eventstore.temporal.inputs import at_least, instant, text_or_number


@dataclass
class EventInput:
    event_type: str
    data: dict
    metadata: dict = field(default_factory=dict)
    event_id: str = ""  # filled by the workflow with workflow.uuid4() when empty


@dataclass
class StoredEvent:
    position: int
    event_id: str
    stream_id: str
    aggregate_type: str
    version: int
    event_type: str
    data: dict
    metadata: dict
    recorded_at: str
    hash: str
    transaction_id: int = 0  # with `position`, the event's place in commit order


def stored_event(event: RecordedEvent) -> StoredEvent:
    """The wire form of a recorded event."""
    return StoredEvent(
        position=event.position,
        event_id=str(event.event_id),
        stream_id=event.stream_id,
        aggregate_type=event.aggregate_type,
        version=event.version,
        event_type=event.event_type,
        data=event.data,
        metadata=event.metadata,
        recorded_at=event.recorded_at.isoformat(),
        hash=event.hash,
        transaction_id=event.transaction_id,
    )


@dataclass
class AppendRequest:
    stream_id: str
    aggregate_type: str
    events: list[EventInput]
    expected_version: str = text_or_number(default="any")  # "any", "no_stream", "stream_exists" or a version number
    # Apply the prompt projections that allow it in the append's own transaction (one round trip
    # and one activity fewer than the apply_prompt_projections activity afterwards).
    apply_prompt_projections: bool = False
    # metadata key ("actor", "approved_by") -> seal of the actor (eventstore.temporal.actor_seals)
    actor_seals: dict[str, str] = field(default_factory=dict)


@dataclass
class AppendOutcome:
    stream_id: str
    version: int
    events: list[StoredEvent]
    already_stored: bool
    # Prompt projections not past the events yet: those asked for and not applied with the append.
    prompt_projections_pending: list[str] = field(default_factory=list)


@dataclass
class ReadStreamRequest:
    stream_id: str
    from_version: int = at_least(1, default=1)
    to_version: int | None = at_least(1, default=None)
    limit: int = at_least(1, default=1000)


@dataclass
class EventsByTypeRequest:
    event_type: str
    since: str | None = instant(default=None)  # ISO 8601 with offset; occurred (or recorded) at or after
    until: str | None = instant(default=None)  # occurred (or recorded) before
    after_position: int = at_least(0, default=0)
    limit: int = at_least(1, default=1000)
    time: str = "business"  # "business": by data.occurred_at (else recorded_at); "recorded": by recorded_at


@dataclass
class EventPage:
    events: list[StoredEvent]
    has_more: bool


@dataclass
class EventStoreRequest:
    """One operation of EventStoreWorkflow: "append", "get_events" or "get_events_by_type"."""

    operation: str
    append: AppendRequest | None = None
    get_events: ReadStreamRequest | None = None
    get_events_by_type: EventsByTypeRequest | None = None


@dataclass
class EventStoreResponse:
    operation: str
    appended: AppendOutcome | None = None
    page: EventPage | None = None


@dataclass
class PromptProjectionsRequest:
    """Events just appended (commit order: transaction id, position of the newest), to be applied to
    the projections readers expect at once."""

    stream_id: str
    transaction_id: int
    position: int


@dataclass
class PromptProjectionsOutcome:
    applied: int
    behind: list[str]  # prompt projections not yet past the events (busy elsewhere, or stopped)


@dataclass
class CatchUpRequest:
    """Run the projections for about `seconds`, polling every `idle_pause` seconds when idle."""

    seconds: float = at_least(0, default=30.0)
    idle_pause: float = at_least(0, default=0.2)


@dataclass
class CatchUpOutcome:
    applied: int
    failing: list[str]


@dataclass
class RebuildRequest:
    projection: str
    restart: bool = False
    batch_size: int = at_least(1, default=5000)


@dataclass
class RebuildOutcome:
    projection: str
    applied: int
    swapped: bool


@dataclass
class ScheduledRunRequest:
    """The input of a workflow a Temporal Schedule starts: nothing to choose."""


@dataclass
class TreeHeadOutcome:
    tree_size: int | None  # the new head's size; None when nothing was new


@dataclass
class VerificationOutcome:
    ok: bool
    events_checked: int
    problem_count: int


@dataclass
class DeliveryRequest:
    """Deliver one webhook endpoint's events for about `seconds`; each POST may take
    `http_timeout` seconds; failed attempts are retried after `retry_initial` seconds, doubling up
    to `retry_max`."""

    endpoint_id: int
    seconds: float = at_least(0, default=60.0)
    batch_size: int = at_least(1, default=100)
    http_timeout: float = at_least(0, default=10.0)
    retry_initial: float = at_least(0, default=1.0)
    retry_max: float = at_least(0, default=300.0)


@dataclass
class DeliveryOutcome:
    delivered: int
    gone: bool = False  # the endpoint was removed: its workflow ends
