"""Analytics activities: the same selectors as the API and the admin, over the Django ORM.

Each implements a signature of `analytics.activity_signatures`, which is what the workflow calls.
"""

from dataclasses import asdict

from analytics import activity_signatures as signatures
from analytics import selectors
from analytics.messages import (
    AnalyticsRequest,
    BucketFigures,
    CurrencyFigures,
    StatisticsAnswer,
    TrendAnswer,
)
from eventstore.temporal.errors import errors_are_final
from eventstore.temporal.inputs import parse_instant
from eventstore.temporal.worker import django_activity, implements

INVALID_QUERY = "InvalidQuery"
invalid_queries_are_final = errors_are_final(selectors.InvalidQuery, details=lambda error: (error.field,))


def _query(request: AnalyticsRequest) -> selectors.EventQuery:
    return selectors.EventQuery(
        request.event_type,
        parse_instant(request.since, "from", error_type=INVALID_QUERY),
        parse_instant(request.until, "to", error_type=INVALID_QUERY),
        tuple(request.organization_ids) if request.organization_ids is not None else None,
        request.time,
    )


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


@implements(signatures.statistics)
@django_activity
@invalid_queries_are_final
def statistics(request: AnalyticsRequest) -> StatisticsAnswer:
    stats = selectors.event_statistics(_query(request))
    return StatisticsAnswer(
        stats.event_type, stats.since.isoformat(), stats.until.isoformat(), stats.count, stats.payments,
        stats.organizations, stats.users, _iso(stats.first_at), _iso(stats.last_at),
        [CurrencyFigures(**{k: str(v) if k not in ("currency", "count") else v for k, v in asdict(c).items()})
         for c in stats.currencies],
    )


@implements(signatures.trends)
@django_activity
@invalid_queries_are_final
def trends(request: AnalyticsRequest) -> TrendAnswer:
    trend = selectors.event_trend(_query(request), interval=request.interval, time_zone=request.time_zone)
    return TrendAnswer(
        trend.event_type, trend.interval, trend.time_zone, trend.since.isoformat(), trend.until.isoformat(),
        [BucketFigures(b.start.isoformat(), b.count, {c: str(t) for c, t in b.totals.items()}) for b in trend.buckets],
    )


ACTIVITIES = [statistics, trends]
