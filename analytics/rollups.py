"""A range's facts from the daily totals: the rows of the whole days inside the range, and the events
those rows do not hold, read one by one.

A range [since, until) (any instants, with any offsets) splits, in the zone the days are cut in, into
whole days and the partial days at its edges. Each fact is either a daily total row or a single event
(`FACT_COLUMNS`), so every answer (statistics, trends, statement totals) is one aggregate over the union:

- edges: the events of the partial days, read from the store;
- whole days: the rows, which hold the events up to the projection's checkpoint, read in the same
  statement (one snapshot) as the rows; plus the events past that checkpoint in those days, read from
  the store (the catch-up loop's lag, or everything while the projection is stopped or being built).
  A read is therefore always as current as a raw scan, whatever the projection's lag;
- as known at a recorded time (statements): the rows of the days recorded before that time's day, plus
  the events recorded from the start of that day up to that time.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from analytics.models import DailyTotal
from analytics.projections import AMOUNT, NAME, ROLLUP_TIME_ZONE
from eventstore.projections.models import ProjectionCheckpoint
from eventstore.selectors import time_column

KNOWN = "known"  # the basis of rows by business day and recorded day
FACT_COLUMNS = "local, event_type, organization_id, currency, events, amounts, total, minimum, maximum, first_at, last_at"


@dataclass(frozen=True)
class Scope:
    event_types: tuple[str, ...]
    time: str  # the basis: "business" or "recorded"
    since: datetime
    until: datetime
    organization_ids: tuple[str, ...] | None = None  # None: every organization
    known_at: datetime | None = None  # only what was recorded by then (business basis)


def rollup_zone() -> ZoneInfo:
    return ZoneInfo(ROLLUP_TIME_ZONE)


def whole_days(since: datetime, until: datetime, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The first and last midnights in `zone` that bound the whole days inside [since, until)."""
    start = since.astimezone(zone)
    first = start.date() if start.timetz().replace(tzinfo=None) == time() else start.date() + timedelta(days=1)
    last = until.astimezone(zone).date()
    if first >= last:
        return None
    return datetime.combine(first, time(), zone), datetime.combine(last, time(), zone)


def facts(scope: Scope) -> tuple[str, list]:
    """A FROM item of the range's facts (columns FACT_COLUMNS; `local` is the time, or the day, in the
    rollup zone, without zone) and its parameters."""
    parts = _parts(scope)
    union = " UNION ALL ".join(sql for sql, _ in parts)
    return f"({union}) AS facts({FACT_COLUMNS})", [param for _, params in parts for param in params]


def _parts(scope: Scope) -> list[tuple[str, list]]:
    days = whole_days(scope.since, scope.until, rollup_zone())
    if days is None:
        return [_events(scope, scope.since, scope.until, _known(scope))]
    start, end = days
    parts = [_rows(scope, start, end)]
    if scope.since < start:
        parts.append(_events(scope, scope.since, start, _known(scope)))
    if end < scope.until:
        parts.append(_events(scope, end, scope.until, _known(scope)))
    parts.append(_events(scope, start, end, _past_checkpoint(scope)))
    if scope.known_at is not None:
        parts.append(_events(scope, start, end, ("e.recorded_at >= %s AND e.recorded_at <= %s",
                                                 [_day_start(scope.known_at), scope.known_at])))
    return parts


def _day_start(moment: datetime) -> datetime:
    return datetime.combine(moment.astimezone(rollup_zone()).date(), time(), rollup_zone())


def _known(scope: Scope) -> tuple[str, list]:
    return ("e.recorded_at <= %s", [scope.known_at]) if scope.known_at is not None else ("TRUE", [])


def _past_checkpoint(scope: Scope) -> tuple[str, list]:
    # Two scalar subqueries rather than one row: the comparison then reads the commit-order index.
    mark = (f"(SELECT coalesce(max({{}}), 0) FROM {ProjectionCheckpoint._meta.db_table} WHERE name = %s)")
    sql = f"(e.transaction_id, e.position) > ({mark.format('transaction_id')}, {mark.format('position')})"
    if scope.known_at is None:
        return sql, [NAME, NAME]
    return f"{sql} AND e.recorded_at < %s", [NAME, NAME, _day_start(scope.known_at)]


def _rows(scope: Scope, start: datetime, end: datetime) -> tuple[str, list]:
    sql = (f"SELECT r.day::timestamp, r.event_type, r.organization_id, r.currency, r.events, r.amounts, r.amount_total,"
           f" r.amount_min, r.amount_max, r.first_at, r.last_at FROM {DailyTotal._meta.db_table} AS r"
           f" WHERE r.basis = %s AND r.event_type = ANY(%s) AND r.day >= %s AND r.day < %s")
    params = [KNOWN if scope.known_at is not None else scope.time, list(scope.event_types), start.date(), end.date()]
    if scope.organization_ids is not None:
        sql += " AND r.organization_id = ANY(%s)"
        params.append(list(scope.organization_ids))
    if scope.known_at is not None:
        sql += " AND r.recorded_day < %s"
        params.append(scope.known_at.astimezone(rollup_zone()).date())
    return sql, params


def _events(scope: Scope, since: datetime, until: datetime, condition: tuple[str, list]) -> tuple[str, list]:
    moment = time_column(scope.time, "e")
    sql = (f"SELECT {moment} AT TIME ZONE %s, e.event_type, e.metadata->>'organization_id', e.data->>'currency', 1,"
           f" ({AMOUNT} IS NOT NULL)::int, {AMOUNT}, {AMOUNT}, {AMOUNT}, {moment}, {moment}"
           f" FROM eventstore_event AS e WHERE e.event_type = ANY(%s) AND {moment} >= %s AND {moment} < %s")
    params = [ROLLUP_TIME_ZONE, list(scope.event_types), since, until]
    if scope.organization_ids is not None:
        sql += " AND e.metadata->>'organization_id' = ANY(%s)"
        params.append(list(scope.organization_ids))
    return f"{sql} AND {condition[0]}", params + condition[1]
