"""The event store's value types. Pure Python: workflows and the domain may import them."""

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping


class ExpectedVersion(enum.Enum):
    """What the caller believes about a stream before appending; an int means that exact version."""

    ANY = "any"
    NO_STREAM = "no_stream"
    STREAM_EXISTS = "stream_exists"


ANY = ExpectedVersion.ANY
NO_STREAM = ExpectedVersion.NO_STREAM
STREAM_EXISTS = ExpectedVersion.STREAM_EXISTS


@dataclass(frozen=True)
class NewEvent:
    """An event to append. `event_id` is the idempotency key: a retry must send the same one."""

    event_type: str
    data: Mapping[str, Any]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class RecordedEvent:
    position: int
    event_id: uuid.UUID
    stream_id: str
    aggregate_type: str
    version: int
    event_type: str
    data: dict
    metadata: dict
    recorded_at: datetime
    transaction_id: int
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Checkpoint:
    """A place in the global, commit-consistent order of events: (transaction id, position)."""

    transaction_id: int = 0
    position: int = 0

    @classmethod
    def of(cls, event: RecordedEvent) -> "Checkpoint":
        return cls(event.transaction_id, event.position)


START = Checkpoint()


@dataclass(frozen=True)
class AppendResult:
    stream_id: str
    events: tuple[RecordedEvent, ...]
    version: int
    already_stored: bool = False

    @property
    def positions(self) -> list[int]:
        return [event.position for event in self.events]
