"""The `Reconciliation` aggregate's events and their schemas: one stream per run
(`reconciliation-<id>`), recorded by its workflows through the store's append activity.

- ReconciliationStarted: the file (name, SHA-256, size, lines), the organization, the period and
  the mapping, by whom it was uploaded (metadata.actor);
- ReconciliationCompleted: the findings summary (count and sums by outcome and currency) and the
  file's totals, which the file-side sums equal;
- ReconciliationFailed: why the run stopped;
- ReconciliationFindingResolved: a finding, its note, and who resolved it (metadata.actor).
"""

import enum

from eventstore.registry import EventSchemas

AGGREGATE_TYPE = "Reconciliation"


class EventType(enum.StrEnum):
    STARTED = "ReconciliationStarted"
    COMPLETED = "ReconciliationCompleted"
    FAILED = "ReconciliationFailed"
    FINDING_RESOLVED = "ReconciliationFindingResolved"


def stream_id(reconciliation_id: int) -> str:
    return f"reconciliation-{reconciliation_id}"


_TEXT = {"type": "string"}
_DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+(?:\.[0-9]+)?$(?!\n)"}
_SUMMARY_ROW = {
    "type": "object",
    "required": ["outcome", "currency", "count"],
    "properties": {"outcome": _TEXT, "currency": _TEXT, "count": {"type": "integer", "minimum": 0},
                   "gross": _DECIMAL, "fee": _DECIMAL, "net": _DECIMAL, "trail_amount": _DECIMAL},
}
_ID = {"type": "integer", "minimum": 1}

DATA_SCHEMAS = {
    EventType.STARTED: {
        "type": "object",
        "description": "A settlement file was imported and its reconciliation started.",
        "required": ["reconciliation_id", "organization_id", "file_name", "sha256", "lines", "period_start",
                     "period_end", "mapping"],
        "properties": {"reconciliation_id": _ID, "organization_id": _TEXT, "file_name": _TEXT,
                       "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}, "size": {"type": "integer"},
                       "lines": {"type": "integer", "minimum": 0}, "period_start": {"type": "string", "format": "date"},
                       "period_end": {"type": "string", "format": "date"}, "mapping": _TEXT},
    },
    EventType.COMPLETED: {
        "type": "object",
        "description": "The run's findings summary, and the file's totals by currency.",
        "required": ["reconciliation_id", "summary", "file_totals", "findings"],
        "properties": {"reconciliation_id": _ID, "summary": {"type": "array", "items": _SUMMARY_ROW},
                       "file_totals": {"type": "object"}, "findings": {"type": "integer", "minimum": 0}},
    },
    EventType.FAILED: {
        "type": "object",
        "description": "The run stopped; nothing of it counts.",
        "required": ["reconciliation_id", "error"],
        "properties": {"reconciliation_id": _ID, "error": _TEXT},
    },
    EventType.FINDING_RESOLVED: {
        "type": "object",
        "description": "A finding was resolved with a note.",
        "required": ["reconciliation_id", "finding", "outcome", "note"],
        "properties": {"reconciliation_id": _ID, "finding": {"type": "integer", "minimum": 1}, "outcome": _TEXT,
                       "note": {"type": "string", "minLength": 1, "maxLength": 2000}, "payment_id": _TEXT,
                       "line_number": {"type": "integer"}},
    },
}

ACTOR = {
    "type": "object",
    "required": ["kind", "id", "name", "channel"],
    "properties": {"kind": _TEXT, "id": _TEXT, "name": _TEXT, "channel": _TEXT},
}
METADATA_SCHEMA = {
    "type": "object",
    "description": "The run's organization and workflow, and who acted.",
    "properties": {**{name: _TEXT for name in ("organization_id", "workflow_id", "run_id", "correlation_id")},
                   "actor": ACTOR},
}

RECONCILIATION_EVENT_SCHEMAS = EventSchemas(data={str(kind): schema for kind, schema in DATA_SCHEMAS.items()},
                                            metadata=METADATA_SCHEMA)
