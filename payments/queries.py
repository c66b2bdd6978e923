"""Messages of PaymentHistoryQueryWorkflow: history, search and timeline. Pure Python, no Django."""

from dataclasses import dataclass, field


@dataclass
class HistoryQuery:
    """operation: "history" (payment_id), "search" (filters) or "timeline" (correlation_id)."""

    operation: str
    payment_id: str | None = None
    correlation_id: str | None = None
    event_type: str | None = None
    aggregate_type: str | None = None
    organization_ids: list[str] | None = None
    currency: str | None = None
    since: str | None = None  # ISO 8601 with offset
    until: str | None = None
    after_position: int = 0
    limit: int = 100


@dataclass
class EventView:
    event_id: str
    stream_id: str
    event_type: str
    version: int
    position: int
    timestamp: str
    data: dict
    metadata: dict


@dataclass
class HistoryAnswer:
    events: list[EventView] = field(default_factory=list)
    next_after_position: int | None = None
