"""The store's workflows through a real Temporal dev server and worker, against real PostgreSQL:
EventStoreWorkflow, the projections' catch-up loop and the replay (rebuild) workflow."""

import json
import time
import uuid

import pytest
from temporalio.api.enums.v1 import EventType as HistoryEventType
from temporalio.client import WorkflowFailureError
from temporalio.worker import Replayer

from eventstore.messages import (
    AppendRequest,
    CatchUpRequest,
    EventInput,
    EventsByTypeRequest,
    EventStoreRequest,
    EventStoreResponse,
    ReadStreamRequest,
    RebuildRequest,
)
from eventstore.models import Event
from eventstore.projection_lag import lag
from eventstore.projections import apply_all_pending
from eventstore.workflows import EventStoreWorkflow, ProjectionCatchUpWorkflow, ProjectionReplayWorkflow
from tests.eventstore.helpers import payment_data

pytestmark = pytest.mark.django_db(transaction=True)


def run_store(temporal, request: EventStoreRequest, workflow_id: str | None = None) -> EventStoreResponse:
    return temporal.run(
        temporal.client.execute_workflow(
            EventStoreWorkflow.run, request, id=workflow_id or f"store-{uuid.uuid4()}", task_queue=temporal.task_queue
        )
    )


def append_request(stream_id, expected="any", count=2):
    events = [EventInput("PaymentProcessed", payment_data("PaymentProcessed", f"{n + 1}.00", stream_id),
                         {"correlation_id": "c-1"}) for n in range(count)]
    return EventStoreRequest(
        operation="append",
        append=AppendRequest(stream_id=stream_id, aggregate_type="Payment", events=events, expected_version=expected),
    )


def test_append_then_read_through_temporal(temporal):
    appended = run_store(temporal, append_request("payment-wf", expected="no_stream")).appended

    assert appended.version == 2 and not appended.already_stored
    stored = Event.objects.filter(stream_id="payment-wf").order_by("version").values_list("event_id", flat=True)
    assert [uuid.UUID(event.event_id) for event in appended.events] == list(stored)
    page = run_store(temporal, EventStoreRequest("get_events", get_events=ReadStreamRequest("payment-wf", limit=1))).page
    assert [event.version for event in page.events] == [1] and page.has_more
    by_type = run_store(
        temporal, EventStoreRequest("get_events_by_type", get_events_by_type=EventsByTypeRequest("PaymentProcessed"))
    ).page
    assert [event.event_id for event in by_type.events] == [event.event_id for event in appended.events]
    assert Event.objects.filter(stream_id="payment-wf").count() == 2


def test_conflict_fails_the_workflow_with_a_typed_error_and_writes_nothing(temporal):
    run_store(temporal, append_request("payment-wf", count=1))

    with pytest.raises(WorkflowFailureError) as raised:
        run_store(temporal, append_request("payment-wf", expected="no_stream"))

    assert raised.value.cause.type == "WrongExpectedVersion"
    assert "payment-wf" in raised.value.cause.message
    assert Event.objects.filter(stream_id="payment-wf").count() == 1


def test_unknown_operation_is_a_clear_failure(temporal):
    with pytest.raises(WorkflowFailureError) as raised:
        run_store(temporal, EventStoreRequest("drop_everything"))
    assert "Unknown or incomplete operation 'drop_everything'" in raised.value.cause.message


def test_recorded_history_replays_deterministically(temporal):
    workflow_id = f"store-{uuid.uuid4()}"
    run_store(temporal, append_request("payment-replay"), workflow_id=workflow_id)

    async def replay():
        history = await temporal.client.get_workflow_handle(workflow_id).fetch_history()
        await Replayer(workflows=[EventStoreWorkflow]).replay_workflow(history)

    temporal.run(replay())


def test_catch_up_loop_applies_events_appended_while_nobody_published(
    temporal, random_commands, assert_summaries_match_a_fold_of_the_events
):
    random_commands(200, payments=30)
    handle = temporal.run(temporal.client.start_workflow(
        ProjectionCatchUpWorkflow.run, CatchUpRequest(seconds=2, idle_pause=0.05),
        id=f"catch-up-{uuid.uuid4()}", task_queue=temporal.task_queue,
    ))
    try:
        deadline = time.monotonic() + 60
        while any(item.events_behind for item in lag()):
            assert time.monotonic() < deadline, lag()
            time.sleep(0.1)
        random_commands(50, payments=30, seed=9)
        while any(item.events_behind for item in lag()):
            assert time.monotonic() < deadline, lag()
            time.sleep(0.1)
    finally:
        temporal.run(handle.terminate("test over"))
        time.sleep(2.5)  # the running activity notices at its next heartbeat, or ends after its 2 s
    assert_summaries_match_a_fold_of_the_events()


def test_replay_workflow_rebuilds_and_swaps(temporal, random_commands, summary_rows):
    random_commands(300, payments=50)
    apply_all_pending()
    before = summary_rows()

    outcomes = temporal.run(temporal.client.execute_workflow(
        ProjectionReplayWorkflow.run, [RebuildRequest("payment_summary", restart=True, batch_size=100)],
        id=f"replay-{uuid.uuid4()}", task_queue=temporal.task_queue,
    ))

    assert [(outcome.projection, outcome.swapped) for outcome in outcomes] == [("payment_summary", True)]
    assert summary_rows() == before


BAD_EVENTS = {
    "lone surrogate in a value": {"note": "a\ud800b"},
    "lone surrogate in a key": {"\udc00": "a"},
    "NUL character in a key": {"a\x00b": "c"},
    "nesting 40 levels deep": {"deep": json.loads("[" * 39 + "]" * 39)},
}


@pytest.mark.parametrize("data", BAD_EVENTS.values(), ids=BAD_EVENTS.keys())
def test_bad_event_input_fails_the_append_at_its_first_attempt(temporal, data):
    workflow_id = f"store-{uuid.uuid4()}"
    request = EventStoreRequest("append", append=AppendRequest("ledger-bad", "Ledger", [EventInput("Noted", data)]))

    with pytest.raises(WorkflowFailureError) as raised:
        run_store(temporal, request, workflow_id=workflow_id)

    assert raised.value.cause.type == "InvalidEvent"
    assert raised.value.cause.message.startswith("events[0].data")
    history = temporal.run(temporal.client.get_workflow_handle(workflow_id).fetch_history())
    attempts = [event.activity_task_started_event_attributes.attempt for event in history.events
                if event.event_type == HistoryEventType.EVENT_TYPE_ACTIVITY_TASK_STARTED]
    assert attempts == [1]
    assert not Event.objects.exists()
