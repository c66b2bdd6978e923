"""The append activity under Temporal's retries: a retry after a commit writes nothing twice."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.common import RetryPolicy
from temporalio.worker import UnsandboxedWorkflowRunner

from eventstore.activities import append_events_activity
from eventstore.messages import AppendOutcome, AppendRequest, EventInput
from eventstore.models import Event

pytestmark = pytest.mark.django_db(transaction=True)

SLOW_COMMIT = """
CREATE FUNCTION test_slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(2.5); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER test_slow_commit AFTER INSERT ON eventstore_event
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.stream_id LIKE 'slow-%')
    EXECUTE FUNCTION test_slow_commit();
"""


@workflow.defn(name="AppendWithShortTimeout")
class AppendWithShortTimeout:
    @workflow.run
    async def run(self, request: AppendRequest) -> AppendOutcome:
        return await workflow.execute_activity(
            "eventstore.append_events", request, result_type=AppendOutcome,
            start_to_close_timeout=timedelta(seconds=1),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=20),
        )


@pytest.fixture
def slow_commits():
    with connection.cursor() as cursor:
        cursor.execute(SLOW_COMMIT)
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER test_slow_commit ON eventstore_event; DROP FUNCTION test_slow_commit();")


def test_append_retried_after_a_slow_commit_writes_once(temporal_server, slow_commits):
    task_queue = f"slow-{uuid.uuid4()}"
    worker = temporal_server.worker(
        task_queue=task_queue, workflows=[AppendWithShortTimeout], activities=[append_events_activity],
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    request = AppendRequest("slow-payment", "Payment", expected_version="no_stream", events=[
        EventInput("PaymentProcessed", {"amount": "5.00"}, event_id=str(uuid.uuid4())),
        EventInput("PaymentRefunded", {"amount": "1.00"}, event_id=str(uuid.uuid4())),
    ])
    workflow_id = f"slow-{uuid.uuid4()}"

    async def run_and_count_attempts():
        async with worker:
            handle = await temporal_server.client.start_workflow(
                AppendWithShortTimeout.run, request, id=workflow_id, task_queue=task_queue
            )
            outcome = await handle.result()
            history = await handle.fetch_history()
        attempts = [e.activity_task_started_event_attributes.attempt for e in history.events
                    if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED]
        return outcome, max(attempts)

    outcome, attempts = temporal_server.run(run_and_count_attempts())

    assert attempts > 1, "the first attempt should have timed out while committing"
    assert outcome.already_stored
    assert [event.version for event in outcome.events] == [1, 2]
    stored = list(Event.objects.filter(stream_id="slow-payment").values_list("event_id", flat=True))
    assert sorted(map(str, stored)) == sorted(event.event_id for event in request.events)
