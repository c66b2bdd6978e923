"""Starting EventAnalyticsWorkflow from Django code: the seed's EventAnalyticsService.

The API and the dashboard call the selectors directly; this client is for code that wants the
answer through Temporal, as any other Temporal client would get it."""

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from temporalio.client import Client, WorkflowFailureError

from analytics.messages import AnalyticsAnswer, AnalyticsRequest, StatisticsAnswer, TrendAnswer
from analytics.selectors import InvalidQuery
from analytics.workflows import EventAnalyticsWorkflow
from eventstore.temporal.connection import shared_client, shared_loop

WORKFLOW_ID_PREFIX = "event-analytics-"  # the seed's ids: event-analytics-<unique>
EXECUTION_TIMEOUT = timedelta(seconds=300)
RUN_TIMEOUT = timedelta(seconds=300)
TASK_TIMEOUT = timedelta(seconds=60)


class EventAnalyticsService:
    """The seed's getEventStatistics / getEventTrends: each call runs one EventAnalyticsWorkflow."""

    def __init__(self, client: Client | None = None, task_queue: str | None = None):
        self._client = client
        self.task_queue = task_queue or settings.TEMPORAL_TASK_QUEUE

    def get_event_statistics(self, event_type: str, since: datetime, until: datetime,
                             organization_ids: list[str] | None = None, *, time: str = "business") -> StatisticsAnswer:
        return self._run(AnalyticsRequest("statistics", event_type, since.isoformat(), until.isoformat(),
                                          organization_ids, time=time)).statistics

    def get_event_trends(self, event_type: str, since: datetime, until: datetime, *, interval: str = "day",
                         time_zone: str = "UTC", organization_ids: list[str] | None = None,
                         time: str = "business") -> TrendAnswer:
        return self._run(AnalyticsRequest("trends", event_type, since.isoformat(), until.isoformat(),
                                          organization_ids, interval, time_zone, time)).trend

    def _run(self, request: AnalyticsRequest) -> AnalyticsAnswer:
        client = self._client or shared_client()
        run = client.execute_workflow(
            EventAnalyticsWorkflow.run, request, id=f"{WORKFLOW_ID_PREFIX}{uuid.uuid4()}",
            task_queue=self.task_queue, execution_timeout=EXECUTION_TIMEOUT,
            run_timeout=RUN_TIMEOUT, task_timeout=TASK_TIMEOUT,
        )
        try:
            return shared_loop().run(run, timeout=EXECUTION_TIMEOUT.total_seconds() + 10)
        except WorkflowFailureError as failure:
            cause = failure.cause
            if getattr(cause, "type", None) == "InvalidQuery":
                field = cause.details[0] if getattr(cause, "details", None) else "query"
                raise InvalidQuery(field, cause.message) from None
            raise
