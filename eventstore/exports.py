"""Who took data out: each export (an admin list as CSV, a period statement, an audit bundle) is
recorded as a `DataExported` event in the trail itself, so the record of it is as tamper-evident as
the payments it lists: who (the actor), what (kind, source, format, filters, how many rows), of which
organizations, and when (the event's `recorded_at`).

Each export is a stream of its own (`data-export-<uuid>`), so recording one never waits for another.
The events carry no `organization_id`: only those who see every organization, and auditors (the
"Data exports" admin list, permission `eventstore.view_dataexport`), see them.
"""

import uuid
from collections.abc import Iterable, Mapping

from eventstore.actors import Actor
from eventstore.events import NO_STREAM, NewEvent, RecordedEvent
from eventstore.models import DATA_EXPORT, DATA_EXPORTED
from eventstore.registry import EventSchemas
from eventstore.store import append_events

AGGREGATE_TYPE = DATA_EXPORT
STREAM_PREFIX = "data-export-"
KINDS = ("admin_list", "statement", "audit_bundle")
FORMATS = ("csv", "xlsx", "json", "html", "zip")
MAX_FILTERS, MAX_FILTER_LENGTH = 40, 500

_TEXT = {"type": "string", "maxLength": MAX_FILTER_LENGTH}
DATA_EXPORT_SCHEMAS = EventSchemas(
    data={DATA_EXPORTED: {
        "type": "object",
        "required": ["kind", "source", "format", "filters", "row_count", "complete", "organizations",
                     "every_organization"],
        "properties": {
            "kind": {"type": "string", "enum": list(KINDS), "description": "What was exported."},
            "source": {"type": "string", "maxLength": 100,
                       "description": "Which list or document, e.g. payments.paymentsummary, analytics.statement."},
            "format": {"type": "string", "enum": list(FORMATS)},
            "filters": {"type": "object", "maxProperties": MAX_FILTERS,
                        "additionalProperties": {"anyOf": [_TEXT, {"type": "array", "items": _TEXT}]},
                        "description": "The filters, search and range the export was made with."},
            "row_count": {"type": "integer", "minimum": 0,
                          "description": "Rows (events, lines) that went out."},
            "complete": {"type": "boolean",
                         "description": "False when the download stopped before its end (row_count rows went out)."},
            "organizations": {"type": "array", "items": {"type": "string"},
                              "description": "The organizations the exported data could belong to."},
            "every_organization": {"type": "boolean",
                                   "description": "The exporter could see every organization (organizations empty)."},
        },
    }},
    metadata={
        "type": "object",
        "required": ["actor"],
        "properties": {"actor": {"type": "object", "required": ["kind", "id"],
                                 "description": "Who exported: kind, id, name, channel, credential."}},
    },
)


def record_export(*, actor: Actor, kind: str, source: str, export_format: str, filters: Mapping, row_count: int,
                  organization_ids: Iterable[str] | None, complete: bool = True, user_id: str = "") -> RecordedEvent:
    """Append the `DataExported` event of one export; `organization_ids` None: every organization."""
    data = {
        "kind": kind, "source": source, "format": export_format, "filters": _filters(filters),
        "row_count": row_count, "complete": complete,
        "organizations": sorted(organization_ids or ()), "every_organization": organization_ids is None,
    }
    metadata = {"user_id": user_id} if user_id else {}
    result = append_events(stream_id=f"{STREAM_PREFIX}{uuid.uuid4()}", aggregate_type=AGGREGATE_TYPE,
                           events=[NewEvent(DATA_EXPORTED, data, metadata)], expected_version=NO_STREAM, actor=actor)
    return result.events[0]


def _filters(filters: Mapping) -> dict:
    """The filters as text (no NUL, which JSONB cannot hold), empty ones left out, each cut to
    MAX_FILTER_LENGTH characters."""
    kept = {}
    for name, value in list(filters.items())[:MAX_FILTERS]:
        if value is None or value == "" or value == []:
            continue
        values = [_text(item) for item in value] if isinstance(value, (list, tuple)) else _text(value)
        kept[_text(name)[:100]] = values
    return kept


def _text(value) -> str:
    return str(value).replace("\x00", "")[:MAX_FILTER_LENGTH]
