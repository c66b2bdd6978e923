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
- as known at a recorded time (statements): what was recorded before that time's day, plus the events
  recorded from the start of that day up to that time. For the days before that day, what was recorded
  before it is the day's row on the business basis less its "known" rows recorded from that day on
  (few: backdated events only), rather than the sum of its "known" rows of every recorded day (one a
  recorded day); for the days from then on, their "known" rows recorded before it. Facts taken away
  are rows with negative counts and total, and no extremes: as known at a time, only counts and totals
  add up.

Each fact also names `newest`, (transaction id, position): an event's own place in commit order, or a
row's last event applied (`through_*`), at or after every event the row holds. As known at a time,
with `Scope.newest`, the days' business rows leave theirs to one fact of the rows of the days recorded
before known_at's (see `_newest_recorded_before`). The newest of all the facts used therefore covers
every event they count (a statement's signed head).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from analytics.models import DailyTotal
from analytics.projections import AMOUNT, NAME, ROLLUP_TIME_ZONE
from eventstore.projections.models import ProjectionCheckpoint
from eventstore.selectors import RECORDED, time_column

KNOWN = "known"  # the basis of rows by business day and recorded day
LISTED_LAG = 10_000  # up to this many events past the checkpoint are read one by one, by position
FACT_COLUMNS = ("local, event_type, organization_id, currency, events, amounts, total, minimum, maximum, first_at,"
                " last_at, newest")


@dataclass(frozen=True)
class Scope:
    event_types: tuple[str, ...]
    time: str  # the basis: "business" or "recorded"
    since: datetime | None  # None: from the beginning
    until: datetime
    organization_ids: tuple[str, ...] | None = None  # None: every organization
    known_at: datetime | None = None  # only what was recorded by then (business basis)
    newest: bool = False  # whether the facts name the newest place they count (a statement's signed head)


def rollup_zone() -> ZoneInfo:
    return ZoneInfo(ROLLUP_TIME_ZONE)


def whole_days(since: datetime | None, until: datetime,
               zone: ZoneInfo) -> tuple[datetime | None, datetime] | None:
    """The first and last midnights in `zone` that bound the whole days inside [since, until); the
    first is None when `since` is (from the beginning)."""
    last = datetime.combine(until.astimezone(zone).date(), time(), zone)
    if since is None:
        return None, last
    start = since.astimezone(zone)
    first = start.date() if start.timetz().replace(tzinfo=None) == time() else start.date() + timedelta(days=1)
    if first >= last.date():
        return None
    return datetime.combine(first, time(), zone), last


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
    parts = _rows_parts(scope, start, end)
    if start is not None and scope.since < start:
        parts.append(_events(scope, scope.since, start, _known(scope)))
    if end < scope.until:
        parts.append(_events(scope, end, scope.until, _known(scope)))
    parts += [_events(scope, start, end, condition, source) for source, condition in _past_checkpoint(scope)]
    if scope.known_at is not None:
        parts.append(_events(scope, start, end, ("e.recorded_at >= %s AND e.recorded_at <= %s",
                                                 [_day_start(scope.known_at), scope.known_at])))
    return parts


def _day_start(moment: datetime) -> datetime:
    return datetime.combine(moment.astimezone(rollup_zone()).date(), time(), rollup_zone())


def _known(scope: Scope) -> tuple[str, list]:
    return ("e.recorded_at <= %s", [scope.known_at]) if scope.known_at is not None else ("TRUE", [])


def _past_checkpoint(scope: Scope) -> list[tuple[tuple[str, list], tuple[str, list]]]:
    """The events past the projection's checkpoint, as two exclusive parts (each a source and a
    condition for `_events`). The planner cannot know how many there are before it reads the checkpoint,
    and guesses a third of the store: it would read a range of business time, in parallel. While at most
    LISTED_LAG are, their positions are listed from the commit-order index alone and each event is read
    by its key; beyond (a projection stopped or being built), they are read as a range. A one-row gate,
    joined first, decides once in the statement which part runs; the other is never started."""
    # Two scalar subqueries rather than one row: the comparison then reads the commit-order index.
    mark = (f"(SELECT coalesce(max({{}}), 0) FROM {ProjectionCheckpoint._meta.db_table} WHERE name = %s)")
    past = f"({{0}}.transaction_id, {{0}}.position) > ({mark.format('transaction_id')}, {mark.format('position')})"
    gate = (f"(SELECT (SELECT count(*) FROM (SELECT FROM eventstore_event AS later WHERE {past.format('later')}"
            f" LIMIT {LISTED_LAG + 1}) AS listed) <= {LISTED_LAG} AS few OFFSET 0) AS gate"
            f" CROSS JOIN eventstore_event AS e", [NAME, NAME])
    listed = f"e.position = ANY(ARRAY(SELECT later.position FROM eventstore_event AS later WHERE {past.format('later')}))"
    known = ("", []) if scope.known_at is None else (" AND e.recorded_at < %s", [_day_start(scope.known_at)])
    return [(gate, (f"gate.few AND {listed}{known[0]}", [NAME, NAME, *known[1]])),
            (gate, (f"NOT gate.few AND {past.format('e')}{known[0]}", [NAME, NAME, *known[1]]))]


def _rows_parts(scope: Scope, start: datetime | None, end: datetime) -> list[tuple[str, list]]:
    if scope.known_at is None:
        return [_rows(scope, scope.time, start.date() if start else None, end.date())]
    known_day = scope.known_at.astimezone(rollup_zone()).date()
    first, last = start.date() if start else None, end.date()
    parts = []
    if first is None or first < known_day:  # days before known_at's: all, less what was recorded from then on
        before = min(last, known_day)
        parts.append(_rows(scope, scope.time, first, before, placed=False))
        parts.append(_rows(scope, KNOWN, first, before, ("r.recorded_day >= %s", [known_day]), taken_away=True))
        if scope.newest:
            parts.append(_newest_recorded_before(scope, known_day))
    if known_day < last:  # days from known_at's on: what was recorded before it
        parts.append(_rows(scope, KNOWN, max(first or known_day, known_day), last, ("r.recorded_day < %s", [known_day])))
    return parts


def _newest_recorded_before(scope: Scope, known_day: date) -> tuple[str, list]:
    """A fact of no events whose newest place covers every event the rows hold that was recorded before
    `known_day`: the last event applied to the rows of those recorded days. A day's business row moves
    its place whenever a late event of that day is applied; a recorded day's rows stop changing once
    that day's events are applied, so the same statement asked again names the same head."""
    sql, params = _where(scope, RECORDED, None, known_day, ("TRUE", []))
    return (f"SELECT NULL::timestamp, NULL, NULL, NULL, 0, 0, NULL::numeric, NULL::numeric, NULL::numeric,"
            f" NULL::timestamptz, NULL::timestamptz, max(ARRAY[r.through_transaction, r.through_position])"
            f" {sql}"), params


def _rows(scope: Scope, basis: str, first: date | None, last: date, condition: tuple[str, list] = ("TRUE", []),
          *, taken_away: bool = False, placed: bool = True) -> tuple[str, list]:
    """The rows of days [first, last) (first None: from the beginning) on `basis`; `taken_away`: as facts to
    subtract; `placed`: whether their newest place is `through_*` (else left to `_newest_recorded_before`)."""
    newest = "ARRAY[r.through_transaction, r.through_position]" if placed and not taken_away else "NULL::bigint[]"
    figures = ("-r.events, -r.amounts, -r.amount_total, NULL, NULL, NULL, NULL" if taken_away else
               "r.events, r.amounts, r.amount_total, r.amount_min, r.amount_max, r.first_at, r.last_at")
    sql, params = _where(scope, basis, first, last, condition)
    return f"SELECT r.day::timestamp, r.event_type, r.organization_id, r.currency, {figures}, {newest} {sql}", params


def _where(scope: Scope, basis: str, first: date | None, last: date, condition: tuple[str, list]) -> tuple[str, list]:
    sql = (f"FROM {DailyTotal._meta.db_table} AS r WHERE r.basis = %s AND r.event_type = ANY(%s) AND r.day < %s"
           f" AND {condition[0]}")
    params = [basis, list(scope.event_types), last, *condition[1]]
    if first is not None:
        sql += " AND r.day >= %s"
        params.append(first)
    if scope.organization_ids is not None:
        sql += " AND r.organization_id = ANY(%s)"
        params.append(list(scope.organization_ids))
    return sql, params


def _events(scope: Scope, since: datetime | None, until: datetime, condition: tuple[str, list],
            source: tuple[str, list] = ("eventstore_event AS e", [])) -> tuple[str, list]:
    moment = time_column(scope.time, "e")
    sql = (f"SELECT {moment} AT TIME ZONE %s, e.event_type, e.metadata->>'organization_id', e.data->>'currency', 1,"
           f" ({AMOUNT} IS NOT NULL)::int, {AMOUNT}, {AMOUNT}, {AMOUNT}, {moment}, {moment},"
           f" ARRAY[e.transaction_id, e.position]"
           f" FROM {source[0]} WHERE e.event_type = ANY(%s) AND {moment} < %s")
    params = [ROLLUP_TIME_ZONE, *source[1], list(scope.event_types), until]
    if since is not None:
        sql += f" AND {moment} >= %s"
        params.append(since)
    if scope.organization_ids is not None:
        sql += " AND e.metadata->>'organization_id' = ANY(%s)"
        params.append(list(scope.organization_ids))
    return f"{sql} AND {condition[0]}", params + condition[1]
