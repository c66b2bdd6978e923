"""Statistics and trends over payment events, computed in PostgreSQL. Money stays Decimal.

Both are read-only selectors used alike by the analytics workflow's activities, the API and the
admin dashboard. Bad input raises InvalidQuery with a message naming the problem; an empty result
is an empty result.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils.translation import gettext as _

from analytics.projections import AMOUNT, ROLLUP_TIME_ZONE
from analytics.rollups import Scope, facts
from eventstore.replica import read_connection
from eventstore.selectors import BUSINESS, TIME_AXES, time_column
from payments.domain import EventType

INTERVALS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1), "month": timedelta(days=31)}
MAX_BUCKETS = 10_000


class InvalidQuery(ValueError):
    """The question cannot be answered as asked; the message says why."""

    def __init__(self, field_name: str, message: str):
        self.field = field_name
        super().__init__(message)


@dataclass(frozen=True)
class EventQuery:
    event_type: str
    since: datetime
    until: datetime
    organization_ids: tuple[str, ...] | None = None  # None: every organization
    time: str = BUSINESS  # the axis of since, until and buckets: "business" (occurred_at) or "recorded"


@dataclass(frozen=True)
class CurrencyStatistics:
    currency: str
    count: int
    total: Decimal
    average: Decimal
    minimum: Decimal
    maximum: Decimal


@dataclass(frozen=True)
class EventStatistics:
    event_type: str
    since: datetime
    until: datetime
    count: int
    payments: int | None  # distinct counts, None where answered from daily totals
    organizations: int
    users: int | None
    first_at: datetime | None
    last_at: datetime | None
    currencies: list[CurrencyStatistics] = field(default_factory=list)


@dataclass(frozen=True)
class TrendBucket:
    start: datetime
    count: int
    totals: dict[str, Decimal]


@dataclass(frozen=True)
class EventTrend:
    event_type: str
    interval: str
    time_zone: str
    since: datetime
    until: datetime
    buckets: list[TrendBucket]


def known_event_types() -> list[str]:
    return [event_type.value for event_type in EventType]


def validated(query: EventQuery) -> EventQuery:
    if query.time not in TIME_AXES:
        raise InvalidQuery("time", _("Unknown time %(time)r; use business (when it occurred) or recorded.") % {
            "time": query.time})
    if query.event_type not in known_event_types():
        raise InvalidQuery("event_type", _("Unknown event type %(event_type)r; use one of %(known)s.") % {
            "event_type": query.event_type, "known": ", ".join(known_event_types())})
    for name in ("since", "until"):
        moment = getattr(query, name)
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            raise InvalidQuery(name, _("'%(name)s' must be a date and time with a time zone.") % {"name": name})
    if query.since >= query.until:
        raise InvalidQuery("from", _("'from' must be before 'to'."))
    if query.until - query.since > timedelta(days=settings.ANALYTICS_MAX_RANGE_DAYS):
        raise InvalidQuery("to", _("The range may cover at most %(days)s days.") % {
            "days": settings.ANALYTICS_MAX_RANGE_DAYS})
    return query


def _scope(query: EventQuery) -> tuple[str, list]:
    moment = time_column(query.time, "e")
    where = f"e.event_type = %s AND {moment} >= %s AND {moment} < %s"
    params: list = [query.event_type, query.since, query.until]
    if query.organization_ids is not None:
        where += " AND e.metadata->>'organization_id' = ANY(%s)"
        params.append(list(query.organization_ids))
    return where, params


def event_statistics(query: EventQuery) -> EventStatistics:
    """Count, organizations, first and last time (on the query's time axis), and per currency the
    total, average, minimum and maximum amount: from the daily totals of the range's whole days and
    the events of the rest (`analytics.rollups`). Distinct payments and users are no sums of days and
    are not counted (None)."""
    query = validated(query)
    sql, params = facts(_facts_scope(query))
    with read_connection().cursor() as cursor:
        cursor.execute(
            f"""SELECT currency, grouping(currency), coalesce(sum(events), 0)::bigint, count(DISTINCT organization_id),
                       min(first_at), max(last_at), sum(amounts)::bigint, sum(total), sum(total) / nullif(sum(amounts), 0),
                       min(minimum), max(maximum)
                FROM {sql} GROUP BY GROUPING SETS ((), (currency))""",
            params,
        )
        rows = cursor.fetchall()
    _, _, count, organizations, first_at, last_at, *_ = next(row for row in rows if row[1] == 1)
    currencies = sorted((_currency_statistics(currency, amounts, total, average, minimum, maximum)
                         for currency, whole, _, _, _, _, amounts, total, average, minimum, maximum in rows
                         if whole == 0 and currency is not None and amounts), key=lambda figures: figures.currency)
    return EventStatistics(query.event_type, query.since, query.until, count, None, organizations, None,
                           first_at, last_at, currencies)


def _currency_statistics(currency, count, total, average, minimum, maximum) -> CurrencyStatistics:
    return CurrencyStatistics(currency, count, total, quantize_average(average, minimum), minimum, maximum)


def quantize_average(average: Decimal, sample: Decimal) -> Decimal:
    """Averages are rounded (half to even) to the precision of the amounts they average."""
    return average.quantize(Decimal(1).scaleb(min(sample.as_tuple().exponent, 0)), rounding=ROUND_HALF_EVEN)


def event_trend(query: EventQuery, *, interval: str, time_zone: str = "UTC") -> EventTrend:
    """Counts and per-currency amount totals per hour, day, week (Monday) or month, in `time_zone`,
    every bucket of the range present, empty ones as zeros."""
    query = validated(query)
    zone = time_zone_named(time_zone)
    if interval not in INTERVALS:
        raise InvalidQuery("interval", _("Unknown interval %(interval)r; use hour, day, week or month.") % {
            "interval": interval})
    if (query.until - query.since) / INTERVALS[interval] > MAX_BUCKETS:
        raise InvalidQuery("interval", _("More than %(count)s %(interval)ss in this range; use a coarser interval.") % {
            "count": MAX_BUCKETS, "interval": interval})
    totals, totals_params = _bucket_totals(query, interval, time_zone)
    with read_connection().cursor() as cursor:
        cursor.execute(
            f"""WITH buckets AS (
                    SELECT generate_series(
                        date_trunc(%s, %s AT TIME ZONE %s),
                        date_trunc(%s, (%s - interval '1 microsecond') AT TIME ZONE %s),
                        ('1 ' || %s)::interval) AS bucket
                ), totals AS ({totals})
                SELECT buckets.bucket, totals.currency, totals.events, totals.amount
                FROM buckets LEFT JOIN totals USING (bucket) ORDER BY 1, 2""",
            [interval, query.since, time_zone, interval, query.until, time_zone, interval, *totals_params],
        )
        rows = cursor.fetchall()
    return EventTrend(query.event_type, interval, time_zone, query.since, query.until, _buckets(rows, zone))


def _from_daily_totals(interval: str, time_zone: str) -> bool:
    """Buckets of whole days in the zone the daily totals are cut in are sums of days; hours, and
    days of another zone, are not."""
    return interval != "hour" and time_zone == ROLLUP_TIME_ZONE


def _bucket_totals(query: EventQuery, interval: str, time_zone: str) -> tuple[str, list]:
    """SQL of (bucket, currency, events, amount) over the range, from daily totals where it can, and
    its parameters."""
    if _from_daily_totals(interval, time_zone):
        sql, params = facts(_facts_scope(query))
        return (f"SELECT date_trunc(%s, local) AS bucket, currency, sum(events)::bigint AS events, sum(total) AS amount"
                f" FROM {sql} GROUP BY 1, 2"), [interval, *params]
    where, params = _scope(query)
    return (f"SELECT date_trunc(%s, {time_column(query.time, 'e')} AT TIME ZONE %s) AS bucket,"
            f" e.data->>'currency' AS currency, count(*) AS events, sum({AMOUNT}) AS amount"
            f" FROM eventstore_event AS e WHERE {where} GROUP BY 1, 2"), [interval, time_zone, *params]


def _facts_scope(query: EventQuery) -> Scope:
    return Scope((query.event_type,), query.time, query.since, query.until, query.organization_ids)


def time_zone_named(time_zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidQuery("time_zone", _("Unknown time zone %(time_zone)r; use an IANA name such as Europe/Paris.") % {
            "time_zone": time_zone}) from None


def _buckets(rows, zone: ZoneInfo) -> list[TrendBucket]:
    """Rows (local bucket start, currency, count, total) folded into one bucket per start."""
    buckets: dict[datetime, TrendBucket] = {}
    for local_start, currency, events, amount in rows:
        bucket = buckets.setdefault(local_start, TrendBucket(local_start.replace(tzinfo=zone), 0, {}))
        if currency is None:
            continue
        buckets[local_start] = TrendBucket(bucket.start, bucket.count + events, {**bucket.totals, currency: amount or Decimal(0)})
    return list(buckets.values())
