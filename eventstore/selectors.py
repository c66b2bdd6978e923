"""Reading the event store. Every read that can be large is paged by a key, never loaded whole.

Following the whole store (projections, catch-up loops) uses `read_all`/`follow_all`, ordered by
(transaction id, position) and limited to transactions older than every transaction still in
flight. Positions come from a sequence when a row is inserted, not when it commits, so a reader
that simply followed positions would pass a position whose transaction commits later and never
see that event. Rows of a transaction that is still open are never returned, nor anything after
them, so a slow writer holds readers back instead of being skipped; a rolled-back transaction
leaves no rows and so no hole to wait for.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

import psycopg
from django.db import connections
from django.db.models import BooleanField, DateTimeField, F, Func, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT

from eventstore.events import START, Checkpoint, RecordedEvent
from eventstore.models import Event, Stream
from eventstore.personal_data import open_events
from eventstore.replica import read_connection
from eventstore.upcasting import upcast

DEFAULT_PAGE_SIZE = 1000

_FIELDS = (
    "position", "event_id", "stream_id", "aggregate_type", "version", "event_type",
    "data", "metadata", "recorded_at", "transaction_id", "prev_hash", "hash",
)

_COMMITTED_AFTER = (
    "(transaction_id, position) > (%s, %s) "
    "AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
)


_COLUMNS = ", ".join(_FIELDS)


def fetch_rows(sql: str, params: list, *, using: str | None = None) -> list[tuple]:
    """The hottest reads (a stream, a timeline) as fixed SQL on a server-binding cursor: PostgreSQL
    prepares them once per connection, and no ORM query is compiled per call. The cursor is wrapped as
    Django wraps its own, so that these reads are counted and timed like every other (query logs,
    `CaptureQueriesContext`, the request metrics' database time). `using` names the database, else
    the read replica's routing picks it."""
    connection = connections[using] if using else read_connection()
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as server_binding:
        cursor = connection.make_debug_cursor(server_binding) if connection.queries_logged else \
            connection.make_cursor(server_binding)
        cursor.execute(sql, params)
        return cursor.fetchall()


def as_read(events: list[RecordedEvent]) -> list[RecordedEvent]:
    """Stored events as every reader sees them: the one place they become read values. Personal fields
    in plaintext while their subject's key exists (one key lookup for the lot: eventstore.personal_data),
    then upcast to the newest schema version (eventstore.upcasting)."""
    return [upcast(event) for event in open_events(events)]


def _decoded(row: tuple) -> RecordedEvent:
    # Django's connection loads jsonb as text (its JSONField decodes it): decode data and metadata here.
    return RecordedEvent(*row[:6], json.loads(row[6]), json.loads(row[7]), *row[8:len(_FIELDS)])


def _fetch(sql: str, params: list) -> list[RecordedEvent]:
    return as_read([_decoded(row) for row in fetch_rows(sql, params)])


def _recorded(queryset: QuerySet, *, as_stored: bool = False) -> list[RecordedEvent]:
    """Events as read (`as_read`), unless `as_stored` asks for them as written: personal fields in
    plaintext, the data of the schema version it was written under."""
    events = [RecordedEvent(*values) for values in queryset.values_list(*_FIELDS)]
    return open_events(events) if as_stored else as_read(events)


def stream_version(stream_id: str) -> int | None:
    """The stream's current version, or None when it does not exist."""
    return Stream.objects.filter(stream_id=stream_id).values_list("version", flat=True).first()


def read_stream(
    stream_id: str,
    *,
    from_version: int = 1,
    to_version: int | None = None,
    recorded_by: datetime | None = None,
    caused_by: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Iterator[RecordedEvent]:
    """A stream's events in version order, from `from_version` up to `to_version` inclusive, and
    (time travel) only those recorded at or before `recorded_by`, and only those whose metadata names
    `caused_by` as their causation id."""
    conditions, params = ["stream_id = %s", "version >= %s"], [stream_id, from_version]
    for condition, value in (("version <= %s", to_version), ("recorded_at <= %s", recorded_by),
                             ("(metadata ->> 'causation_id') = %s", caused_by)):
        if value is not None:
            conditions.append(condition)
            params.append(value)
    sql = f"SELECT {_COLUMNS} FROM eventstore_event WHERE {' AND '.join(conditions)} ORDER BY version LIMIT %s"
    while True:
        page = _fetch(sql, [*params, page_size])
        yield from page
        if len(page) < page_size:
            return
        params[1] = page[-1].version + 1


def events_by_ids(event_ids: list[str], *, as_stored: bool = False) -> list[RecordedEvent]:
    """The events of these ids; `as_stored`: as their writer gave them, personal fields opened but not
    upcast (what an idempotent append compares)."""
    return _recorded(Event.objects.filter(event_id__in=event_ids).order_by("stream_id", "version"), as_stored=as_stored)


def committed_after(after: Checkpoint) -> RawSQL:
    """Filter: events after `after` whose transaction is older than every transaction in flight."""
    return RawSQL(_COMMITTED_AFTER, [after.transaction_id, after.position], output_field=BooleanField())


def read_all(after: Checkpoint = START, *, limit: int = DEFAULT_PAGE_SIZE) -> list[RecordedEvent]:
    """One page of committed events after `after`, in commit-consistent order."""
    return _recorded(Event.objects.filter(committed_after(after)).order_by("transaction_id", "position")[:limit])


def follow_all(after: Checkpoint = START, *, page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[RecordedEvent]:
    """Every committed event after `after`, page by page, until the reader has caught up."""
    while page := read_all(after, limit=page_size):
        yield from page
        after = Checkpoint.of(page[-1])


@dataclass(frozen=True)
class EventFilter:
    """Which events a subscription or a feed follows; an empty tuple matches every value, and
    `organization_ids` None every organization (metadata.organization_id)."""

    aggregate_types: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()
    organization_ids: tuple[str, ...] | None = None


@dataclass(frozen=True)
class MatchingPage:
    events: list[RecordedEvent]
    checkpoint: Checkpoint  # where the next page starts: past every event this read covered


def matching_events(after: Checkpoint, matching: EventFilter) -> QuerySet:
    """Committed events after `after` that match, as a queryset (for counting and the oldest one)."""
    queryset = Event.objects.filter(committed_after(after))
    if matching.aggregate_types:
        queryset = queryset.filter(aggregate_type__in=matching.aggregate_types)
    if matching.event_types:
        queryset = queryset.filter(event_type__in=matching.event_types)
    if matching.organization_ids is not None:
        queryset = queryset.annotate(organization=KT("metadata__organization_id")).filter(
            organization__in=matching.organization_ids)
    return queryset


_FILTER_CONDITIONS = (
    ("aggregate_types", "aggregate_type = ANY(%s)"),
    ("event_types", "event_type = ANY(%s)"),
    ("organization_ids", "(metadata ->> 'organization_id') = ANY(%s)"),
)


def read_matching(after: Checkpoint, matching: EventFilter, *, limit: int = DEFAULT_PAGE_SIZE) -> MatchingPage:
    """One page of committed events after `after` that match, in `read_all`'s order.

    The page's checkpoint is its last event when the page is full; otherwise the last committed event
    of any kind, so a reader whose filter matches little moves on past what it has scanned instead of
    scanning it again. Both come from one statement, hence one snapshot: nothing can commit between
    them and be passed over.
    """
    conditions, params = [_COMMITTED_AFTER], [after.transaction_id, after.position]
    for name, condition in _FILTER_CONDITIONS:
        value = getattr(matching, name)
        if value is not None and (value or name == "organization_ids"):
            conditions.append(condition)
            params.append(list(value))
    sql = (f"(SELECT {_COLUMNS}, true FROM eventstore_event WHERE {' AND '.join(conditions)} "
           "ORDER BY transaction_id, position LIMIT %s) UNION ALL "
           f"(SELECT {_COLUMNS}, false FROM eventstore_event WHERE {_COMMITTED_AFTER} "
           "ORDER BY transaction_id DESC, position DESC LIMIT 1)")
    rows = fetch_rows(sql, [*params, limit, after.transaction_id, after.position])
    events = as_read([_decoded(row) for row in rows if row[-1]])
    last_scanned = [row for row in rows if not row[-1]]
    if len(events) == limit or not last_scanned:
        checkpoint = Checkpoint.of(events[-1]) if events else after
    else:
        checkpoint = Checkpoint.of(_decoded(last_scanned[0]))
    return MatchingPage(events, checkpoint)


def _by_position(queryset: QuerySet, after_position: int, page_size: int) -> Iterator[RecordedEvent]:
    while True:
        page = _recorded(queryset.filter(position__gt=after_position).order_by("position")[:page_size])
        yield from page
        if len(page) < page_size:
            return
        after_position = page[-1].position


BUSINESS, RECORDED = "business", "recorded"
TIME_AXES = (BUSINESS, RECORDED)


def time_column(time: str, table: str = "") -> str:
    """SQL for an event's time on one axis: business time (`data.occurred_at`, else when it was
    recorded; indexed by migration 0015) or recorded time. `table` is the alias of eventstore_event."""
    prefix = f"{table}." if table else ""
    if time == BUSINESS:
        return f"eventstore_business_time({prefix}data, {prefix}recorded_at)"
    if time == RECORDED:
        return f"{prefix}recorded_at"
    raise ValueError(f"Unknown time {time!r}; use business or recorded.")


def business_time() -> Func:
    """The ORM expression of an event's business time (see `time_column`)."""
    return Func(F("data"), F("recorded_at"), function="eventstore_business_time", output_field=DateTimeField())


def events_by_type(
    event_type: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    time: str = BUSINESS,
    after_position: int = 0,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Iterator[RecordedEvent]:
    """Events of one type that occurred (time="business") or were recorded (time="recorded") in
    [since, until), in position order."""
    time_column(time)  # refuses an unknown axis
    queryset = Event.objects.filter(event_type=event_type).alias(
        moment=business_time() if time == BUSINESS else F("recorded_at"))
    if since is not None:
        queryset = queryset.filter(moment__gte=since)
    if until is not None:
        queryset = queryset.filter(moment__lt=until)
    return _by_position(queryset, after_position, page_size)


def events_by_correlation(
    correlation_id: str, *, after_position: int = 0, page_size: int = DEFAULT_PAGE_SIZE
) -> Iterator[RecordedEvent]:
    """Every event whose metadata carries `correlation_id`, across streams, in position order."""
    sql = (f"SELECT {_COLUMNS} FROM eventstore_event WHERE (metadata ->> 'correlation_id') = %s "
           "AND position > %s ORDER BY position LIMIT %s")
    while True:
        page = _fetch(sql, [correlation_id, after_position, page_size])
        yield from page
        if len(page) < page_size:
            return
        after_position = page[-1].position


def events_by_aggregate_type(
    aggregate_type: str, *, after_position: int = 0, page_size: int = DEFAULT_PAGE_SIZE
) -> Iterator[RecordedEvent]:
    return _by_position(Event.objects.filter(aggregate_type=aggregate_type), after_position, page_size)


@dataclass(frozen=True)
class EventSearch:
    """Filters of an event search; every one is optional."""

    event_type: str | None = None
    aggregate_type: str | None = None
    organization_ids: tuple[str, ...] | None = None  # None: any organization
    currency: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class SearchPage:
    events: list[RecordedEvent]
    next_after_position: int | None  # pass back as `after_position` for the next page; None at the end


_SEARCH_FILTERS = {
    "event_type": "event_type = %s",
    "aggregate_type": "aggregate_type = %s",
    "organization_ids": "(metadata ->> 'organization_id') = ANY(%s)",
    "currency": "(data ->> 'currency') = %s",
    "since": "recorded_at >= %s",
    "until": "recorded_at < %s",
}


def search_events(search: EventSearch, *, after_position: int = 0, limit: int = 100) -> SearchPage:
    """Events matching `search`, in position order, one page after `after_position` (keyset cursor)."""
    conditions, params = ["position > %s"], [after_position]
    for name, condition in _SEARCH_FILTERS.items():
        value = getattr(search, name)
        if value is not None and value != "":
            conditions.append(condition)
            params.append(list(value) if name == "organization_ids" else value)
    sql = f"SELECT {_COLUMNS} FROM eventstore_event WHERE {' AND '.join(conditions)} ORDER BY position LIMIT %s"
    events = _fetch(sql, [*params, limit + 1])
    more = len(events) > limit
    return SearchPage(events[:limit], events[limit - 1].position if more else None)


def event_by_id(event_id) -> RecordedEvent | None:
    found = events_by_ids([event_id])
    return found[0] if found else None


def event_at(position: int) -> RecordedEvent | None:
    """The event at `position`, if there is one."""
    found = _fetch(f"SELECT {_COLUMNS} FROM eventstore_event WHERE position = %s", [position])
    return found[0] if found else None
