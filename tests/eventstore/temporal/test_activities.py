"""The store's activities: run directly with the SDK's ActivityEnvironment, and the append activity
under Temporal's retries (a retry after a commit writes nothing twice)."""

import uuid
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner

from eventstore.models import Event
from eventstore.projections.models import ProjectionCheckpoint
from eventstore.temporal.activities import (
    append_events_activity,
    apply_prompt_projections_activity,
    get_events_by_type_activity,
)
from eventstore.temporal.activity_signatures import append_events
from eventstore.temporal.messages import (
    AppendOutcome,
    AppendRequest,
    EventInput,
    EventsByTypeRequest,
    PromptProjectionsRequest,
)
from payments.models import PaymentSummary
from payments.projections import PaymentSummaryProjection
from tests.eventstore.command_activities import run_as_command
from tests.eventstore.helpers import payment_data

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
            append_events, request,
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


def test_append_retried_after_a_slow_commit_writes_once(temporal, slow_commits):
    task_queue = f"slow-{uuid.uuid4()}"
    worker = temporal.worker(
        task_queue=task_queue, workflows=[AppendWithShortTimeout], activities=[append_events_activity],
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    request = AppendRequest("slow-ledger", "Ledger", expected_version="no_stream", events=[
        EventInput("Noted", {"amount": "5.00"}, event_id=str(uuid.uuid4())),
        EventInput("Noted", {"amount": "1.00"}, event_id=str(uuid.uuid4())),
    ])
    workflow_id = f"slow-{uuid.uuid4()}"

    async def run_and_count_attempts():
        async with worker:
            handle = await temporal.client.start_workflow(
                AppendWithShortTimeout.run, request, id=workflow_id, task_queue=task_queue
            )
            outcome = await handle.result()
            history = await handle.fetch_history()
        attempts = [e.activity_task_started_event_attributes.attempt for e in history.events
                    if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED]
        return outcome, max(attempts)

    outcome, attempts = temporal.run(run_and_count_attempts())

    assert attempts > 1, "the first attempt should have timed out while committing"
    assert outcome.already_stored
    assert [event.version for event in outcome.events] == [1, 2]
    stored = list(Event.objects.filter(stream_id="slow-ledger").values_list("event_id", flat=True))
    assert sorted(map(str, stored)) == sorted(event.event_id for event in request.events)


def test_a_malformed_expected_version_fails_at_once_as_invalid_event():
    request = AppendRequest("payment-x", "Payment", [EventInput("PaymentProcessed", {})], expected_version="soon")
    with pytest.raises(ApplicationError) as failure:
        run_as_command(append_events_activity, request)
    assert failure.value.non_retryable and failure.value.type == "InvalidEvent"
    assert not Event.objects.exists()


@pytest.mark.parametrize("since", ["yesterday", "2026-01-01T00:00:00"], ids=["unparsable", "no offset"])
def test_a_bad_time_fails_at_once_instead_of_being_retried(since):
    with pytest.raises(ApplicationError) as failure:
        ActivityEnvironment().run(get_events_by_type_activity, EventsByTypeRequest("PaymentProcessed", since=since))
    assert failure.value.non_retryable and failure.value.type == "InvalidEvent"


def prompt_request(outcome) -> PromptProjectionsRequest:
    newest = outcome.events[-1]
    return PromptProjectionsRequest(outcome.stream_id, newest.transaction_id, newest.position)


def processed(payment_id: str) -> AppendRequest:
    data = payment_data("PaymentProcessed", "10.00", payment_id)
    return AppendRequest(payment_id, "Payment", [EventInput("PaymentProcessed", data, event_id=str(uuid.uuid4()))],
                         expected_version="no_stream")


def test_prompt_projections_apply_the_appended_events_at_once():
    appended = run_as_command(append_events_activity, processed("payment-prompt-1"))

    outcome = ActivityEnvironment().run(apply_prompt_projections_activity, prompt_request(appended))

    assert outcome.behind == [] and outcome.applied >= 1
    assert PaymentSummary.objects.get(payment_id="payment-prompt-1").version == 1
    assert not ProjectionCheckpoint.objects.filter(name="payment_snapshots").exists()  # not prompt: left to catch-up


def test_prompt_projections_say_which_projection_is_busy_elsewhere(plain_connection):
    appended = run_as_command(append_events_activity, processed("payment-prompt-2"))
    ProjectionCheckpoint.objects.create(name="payment_summary")
    with plain_connection(autocommit=False) as other_runner:  # holds the checkpoint's row lock
        other_runner.execute("SELECT * FROM eventstore_projectioncheckpoint WHERE name = 'payment_summary' FOR UPDATE")

        outcome = ActivityEnvironment().run(apply_prompt_projections_activity, prompt_request(appended))

    assert outcome.behind == ["payment_summary"]  # the others (approvals) were applied
    assert not PaymentSummary.objects.filter(payment_id="payment-prompt-2").exists()


def with_projections(request: AppendRequest) -> AppendRequest:
    return replace(request, apply_prompt_projections=True)


def test_the_append_applies_the_prompt_projections_in_its_own_transaction(plain_connection):
    request = with_projections(processed("payment-with-1"))

    appended = run_as_command(append_events_activity, request)

    assert appended.prompt_projections_pending == []
    with plain_connection() as other:  # committed with the event: another connection sees the row
        row = other.execute("SELECT version, last_position FROM payments_paymentsummary WHERE payment_id = %s",
                            ["payment-with-1"]).fetchone()
    assert row == (1, appended.events[0].position)
    assert not ProjectionCheckpoint.objects.filter(name="payment_summary").exists()  # the engine's turn comes later


def test_a_row_behind_its_payment_is_left_to_the_engine_in_commit_order():
    """The second event was appended without the projection: folding the third onto version 1 would
    skip it, so the append leaves both to the engine, which folds them in order."""
    run_as_command(append_events_activity, with_projections(processed("payment-with-2")))
    second = AppendRequest("payment-with-2", "Payment", [EventInput(
        "PaymentRefunded", payment_data("PaymentRefunded", "1.00", "payment-with-2"), event_id=str(uuid.uuid4()))],
        expected_version="1")
    run_as_command(append_events_activity, second)
    third = replace(second, expected_version="2", events=[replace(second.events[0], event_id=str(uuid.uuid4()))])

    appended = run_as_command(append_events_activity, with_projections(third))

    assert appended.prompt_projections_pending == ["payment_summary"]
    assert PaymentSummary.objects.get(payment_id="payment-with-2").version == 1
    ActivityEnvironment().run(apply_prompt_projections_activity, prompt_request(appended))
    row = PaymentSummary.objects.get(payment_id="payment-with-2")
    assert (row.version, row.refunded, row.incomplete) == (3, Decimal("2.00"), False)


def test_a_projection_that_fails_with_the_append_leaves_the_append_committed(monkeypatch):
    def broken(self, events):
        raise ValueError("read model unavailable")
    monkeypatch.setattr(PaymentSummaryProjection, "apply_appended", broken)

    appended = run_as_command(append_events_activity, with_projections(processed("payment-with-3")))

    assert appended.prompt_projections_pending == ["payment_summary"]
    assert Event.objects.filter(stream_id="payment-with-3").count() == 1
    assert not PaymentSummary.objects.filter(payment_id="payment-with-3").exists()


def test_a_batch_already_stored_reports_the_prompt_projections_pending():
    request = with_projections(processed("payment-with-4"))
    run_as_command(append_events_activity, request)

    again = run_as_command(append_events_activity, request)

    assert again.already_stored and again.prompt_projections_pending == ["approvals", "payment_summary"]
