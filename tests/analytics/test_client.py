"""EventAnalyticsService starts workflows as the seed did: ids `event-analytics-<unique>`, 300 s
execution and run timeouts, a 60 s task timeout, as Temporal itself describes them."""

from datetime import datetime, timedelta, timezone

import pytest
from temporalio import client as temporal_client

from analytics.client import EventAnalyticsService

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2026, 2, 1, tzinfo=timezone.utc)


class _StartedIds(temporal_client.Interceptor):
    """Records the id of every workflow the client starts."""

    def __init__(self):
        self.ids: list[str] = []

    def intercept_client(self, next):
        recorder = self

        class Outbound(temporal_client.OutboundInterceptor):
            async def start_workflow(self, input):
                recorder.ids.append(input.id)
                return await super().start_workflow(input)

        return Outbound(next)


def test_analytics_workflows_have_the_seeds_ids_and_timeouts(temporal):
    started = _StartedIds()
    recording = temporal_client.Client(**{**temporal.client.config(), "interceptors": [started]})
    service = EventAnalyticsService(recording, temporal.task_queue)

    service.get_event_statistics("PaymentProcessed", START, START + timedelta(days=1))
    service.get_event_trends("PaymentProcessed", START, START + timedelta(days=1))

    assert len(started.ids) == 2 and len(set(started.ids)) == 2
    for workflow_id in started.ids:
        assert workflow_id.startswith("event-analytics-") and len(workflow_id) > len("event-analytics-")
        described = temporal.run(temporal.client.get_workflow_handle(workflow_id).describe())
        config = described.raw_description.execution_config
        assert described.workflow_type == "EventAnalyticsWorkflow"
        assert (config.workflow_execution_timeout.ToSeconds(), config.workflow_run_timeout.ToSeconds(),
                config.default_workflow_task_timeout.ToSeconds()) == (300, 300, 60)
