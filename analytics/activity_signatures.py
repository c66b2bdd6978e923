"""The analytics activities as the workflow calls them: each one's name and types, with a body that
never runs. Pure Python, no Django; `eventstore/temporal/activity_signatures.py` says why."""

from temporalio import activity

from analytics.messages import AnalyticsRequest, StatisticsAnswer, TrendAnswer


@activity.defn(name="analytics.statistics")
def statistics(request: AnalyticsRequest) -> StatisticsAnswer:
    """Implemented by `analytics.activities.statistics`."""
    raise NotImplementedError


@activity.defn(name="analytics.trends")
def trends(request: AnalyticsRequest) -> TrendAnswer:
    """Implemented by `analytics.activities.trends`."""
    raise NotImplementedError
