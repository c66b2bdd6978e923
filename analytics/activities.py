"""Analytics activities: the same selectors as the API and the admin, over the Django ORM."""

import functools
from dataclasses import asdict
from datetime import datetime

from temporalio import activity
from temporalio.exceptions import ApplicationError

from analytics import queries
from analytics.messages import (
    AnalyticsRequest,
    BucketFigures,
    CurrencyFigures,
    StatisticsAnswer,
    TrendAnswer,
)
from config.temporal import django_activity


def _query(request: AnalyticsRequest) -> queries.EventQuery:
    return queries.EventQuery(
        request.event_type, _moment(request.since, "from"), _moment(request.until, "to"),
        tuple(request.organization_ids) if request.organization_ids is not None else None,
    )


def _moment(text: str, name: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise queries.InvalidQuery(name, f"'{name}' must be an ISO 8601 date and time, not {text!r}.") from None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def invalid_queries_are_final(function):
    @functools.wraps(function)
    def wrapper(request):
        try:
            return function(request)
        except queries.InvalidQuery as error:
            raise ApplicationError(str(error), error.field, type="InvalidQuery", non_retryable=True) from None

    return wrapper


@activity.defn(name="analytics.statistics")
@django_activity
@invalid_queries_are_final
def statistics(request: AnalyticsRequest) -> StatisticsAnswer:
    stats = queries.event_statistics(_query(request))
    return StatisticsAnswer(
        stats.event_type, stats.since.isoformat(), stats.until.isoformat(), stats.count, stats.payments,
        stats.organizations, stats.users, _iso(stats.first_at), _iso(stats.last_at),
        [CurrencyFigures(**{k: str(v) if k not in ("currency", "count") else v for k, v in asdict(c).items()})
         for c in stats.currencies],
    )


@activity.defn(name="analytics.trends")
@django_activity
@invalid_queries_are_final
def trends(request: AnalyticsRequest) -> TrendAnswer:
    trend = queries.event_trend(_query(request), interval=request.interval, time_zone=request.time_zone)
    return TrendAnswer(
        trend.event_type, trend.interval, trend.time_zone, trend.since.isoformat(), trend.until.isoformat(),
        [BucketFigures(b.start.isoformat(), b.count, {c: str(t) for c, t in b.totals.items()}) for b in trend.buckets],
    )


ACTIVITIES = [statistics, trends]
