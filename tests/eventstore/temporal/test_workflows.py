"""The store's workflows through a real Temporal dev server and worker, against real PostgreSQL:
EventStoreWorkflow, the projections' catch-up loop and the replay (rebuild) workflow."""

import json
import time
import uuid

import pytest
from temporalio.api.enums.v1 import EventType as HistoryEventType
from temporalio.client import WorkflowFailureError
from temporalio.worker import Replayer

from eventstore import selectors
from eventstore.actors import Actor
from eventstore.ledger.service import ledger_size
from eventstore.models import Event
from eventstore.projections.engine import apply_all_pending
from eventstore.projections.lag import lag
from eventstore.temporal.actor_seals import seal_actor
from eventstore.temporal.connection import data_converter
from eventstore.temporal.messages import (
    AppendRequest,
    CatchUpRequest,
    EventInput,
    EventsByTypeRequest,
    EventStoreRequest,
    EventStoreResponse,
    ReadStreamRequest,
    RebuildRequest,
)
from eventstore.temporal.workflows import EventStoreWorkflow, ProjectionCatchUpWorkflow, ProjectionReplayWorkflow
from tests.eventstore.helpers import payment_data

pytestmark = pytest.mark.django_db(transaction=True)


def run_store(temporal, request: EventStoreRequest, workflow_id: str | None = None) -> EventStoreResponse:
    return temporal.run(
        temporal.client.execute_workflow(
            EventStoreWorkflow.run, request, id=workflow_id or f"store-{uuid.uuid4()}", task_queue=temporal.task_queue
        )
    )


def append_request(stream_id, expected="any", count=2):
    events = [EventInput("Noted", {"amount": f"{n + 1}.00"}, {"correlation_id": "c-1"}) for n in range(count)]
    return EventStoreRequest(
        operation="append",
        append=AppendRequest(stream_id=stream_id, aggregate_type="Ledger", events=events, expected_version=expected),
    )


def test_append_then_read_through_temporal(temporal):
    appended = run_store(temporal, append_request("ledger-wf", expected="no_stream")).appended

    assert appended.version == 2 and not appended.already_stored
    stored = Event.objects.filter(stream_id="ledger-wf").order_by("version").values_list("event_id", flat=True)
    assert [uuid.UUID(event.event_id) for event in appended.events] == list(stored)
    page = run_store(temporal, EventStoreRequest("get_events", get_events=ReadStreamRequest("ledger-wf", limit=1))).page
    assert [event.version for event in page.events] == [1] and page.has_more
    by_type = run_store(
        temporal, EventStoreRequest("get_events_by_type", get_events_by_type=EventsByTypeRequest("Noted"))
    ).page
    assert [event.event_id for event in by_type.events] == [event.event_id for event in appended.events]
    assert Event.objects.filter(stream_id="ledger-wf").count() == 2


def test_conflict_fails_the_workflow_with_a_typed_error_and_writes_nothing(temporal):
    run_store(temporal, append_request("ledger-wf", count=1))

    with pytest.raises(WorkflowFailureError) as raised:
        run_store(temporal, append_request("ledger-wf", expected="no_stream"))

    assert raised.value.cause.type == "WrongExpectedVersion"
    assert "ledger-wf" in raised.value.cause.message
    assert Event.objects.filter(stream_id="ledger-wf").count() == 1


def test_unknown_operation_is_a_clear_failure(temporal):
    with pytest.raises(WorkflowFailureError) as raised:
        run_store(temporal, EventStoreRequest("drop_everything"))
    assert "Unknown or incomplete operation 'drop_everything'" in raised.value.cause.message


def test_recorded_history_replays_deterministically(temporal):
    workflow_id = f"store-{uuid.uuid4()}"
    run_store(temporal, append_request("ledger-replay"), workflow_id=workflow_id)

    async def replay():
        history = await temporal.client.get_workflow_handle(workflow_id).fetch_history()
        await Replayer(workflows=[EventStoreWorkflow], data_converter=data_converter()).replay_workflow(history)

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
        while any(item.events_behind for item in lag()) or ledger_size() < Event.objects.count():
            assert time.monotonic() < deadline, (lag(), ledger_size())
            time.sleep(0.1)
    finally:
        temporal.run(handle.terminate("test over"))
        time.sleep(2.5)  # the running activity notices at its next heartbeat, or ends after its 2 s
    assert_summaries_match_a_fold_of_the_events()
    assert ledger_size() == Event.objects.count()  # every event got its ledger index on the way


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


def test_a_plain_client_appends_and_reads_with_raw_json_and_is_recorded_as_what_it_is(plain_temporal, temporal):
    """It may claim an actor in the metadata and send a seal made for another workflow: the events
    name the Temporal client, by the identity Temporal reports for it."""
    copied_seal = seal_actor(Actor(kind="user", id="1", name="admin", channel="admin"), workflow_id="another-workflow")
    appended = plain_temporal("EventStoreWorkflow", {"operation": "append", "append": {
        "stream_id": "ledger-plain", "aggregate_type": "Ledger", "expected_version": 0,
        "actor_seals": {"actor": copied_seal, "approved_by": "v1.forged.signature"},
        "events": [{"event_type": "Noted", "data": {"amount": "12.50"},
                    "metadata": {"correlation_id": "c-plain", "actor": {"kind": "user", "id": "1"},
                                 "approved_by": {"kind": "user", "id": "2"}}}]}})
    page = plain_temporal("EventStoreWorkflow", {"operation": "get_events", "get_events": {"stream_id": "ledger-plain"}})

    assert appended["appended"]["version"] == 1
    [event] = page["page"]["events"]
    assert event["data"]["amount"] == "12.50"
    assert event["metadata"] == {"correlation_id": "c-plain", "actor": {
        "kind": "temporal_client", "id": temporal.client.identity, "channel": "temporal"}}


def test_a_plain_client_cannot_append_to_a_command_only_aggregate(plain_temporal, run_command, command_request):
    """Payment events are written by PaymentEventSourcingWorkflow only, which applies the payment rules:
    a refund of a thousand times the payment through the generic workflow is refused and writes nothing."""
    created = run_command(command_request(amount="10.00"))
    refund = payment_data("PaymentRefunded", "10000.00", created.payment_id)

    with pytest.raises(WorkflowFailureError) as raised:
        plain_temporal("EventStoreWorkflow", {"operation": "append", "append": {
            "stream_id": created.payment_id, "aggregate_type": "Payment",
            "events": [{"event_type": "PaymentRefunded", "data": refund}]}})

    assert raised.value.cause.type == "CommandOnlyAggregate"
    assert "PaymentEventSourcingWorkflow" in raised.value.cause.message
    assert selectors.stream_version(created.payment_id) == 1
    assert [event.event_type for event in selectors.read_stream(created.payment_id)] == ["PaymentProcessed"]


PLAIN_MISTAKES = [
    ("misspelled key", {"operation": "append", "append": {"stream_id": "s", "aggregate_type": "Ledger",
                                                          "events": [{"eventType": "Noted", "data": {}}]}},
     "append.events[0].eventType", "is not a field of EventInput; did you mean 'event_type'?"),
    ("misspelled optional key", {"operation": "append", "append": {
        "stream_id": "s", "aggregate_type": "Ledger", "events": [{"event_type": "Noted", "data": {}}],
        "expectedVersion": "no_stream"}},
     "append.expectedVersion", "is not a field of AppendRequest; did you mean 'expected_version'?"),
    ("data not an object", {"operation": "append", "append": {"stream_id": "s", "aggregate_type": "Ledger",
                                                              "events": [{"event_type": "Noted", "data": [1]}]}},
     "append.events[0].data", "must be a JSON object, not an array."),
    ("negative limit", {"operation": "get_events", "get_events": {"stream_id": "s", "limit": -5}},
     "get_events.limit", "must be at least 1, not -5."),
    ("stream id a number", {"operation": "get_events", "get_events": {"stream_id": 7}},
     "get_events.stream_id", "must be text, not a number."),
    ("nesting 500 levels deep", {"operation": "append", "append": {"stream_id": "s", "aggregate_type": "Ledger",
                                 "events": [{"event_type": "Noted", "data": {"deep": json.loads("[" * 499 + "]" * 499)}}]}},
     "append.events[0].data", "nests objects and arrays deeper than 100 levels."),
]


@pytest.mark.parametrize("request_json, field, problem", [case[1:] for case in PLAIN_MISTAKES],
                         ids=[case[0] for case in PLAIN_MISTAKES])
def test_a_plain_clients_malformed_input_fails_the_workflow_at_once_naming_the_field(
        plain_temporal, request_json, field, problem):
    started = time.monotonic()
    with pytest.raises(WorkflowFailureError) as raised:
        plain_temporal("EventStoreWorkflow", request_json)

    assert time.monotonic() - started < 10
    assert raised.value.cause.type == "InvalidInput"
    assert raised.value.cause.message == f"Input field '{field}' {problem}"
    assert raised.value.cause.details == (field,)
    assert not Event.objects.exists()


def test_a_workflow_started_without_input_fails_at_once(plain_temporal):
    with pytest.raises(WorkflowFailureError) as raised:
        plain_temporal("EventStoreWorkflow")
    assert raised.value.cause.type == "InvalidInput"
    assert raised.value.cause.message == (
        "EventStoreWorkflow takes 1 input: request (EventStoreRequest); it was started with 0.")


def test_get_events_by_type_in_a_time_range_from_a_plain_client(plain_temporal, random_commands):
    """The seed's getEventsByType(type, from, to): events recorded in [since, until), in position order."""
    random_commands(30, payments=10)
    recorded = list(Event.objects.filter(event_type="PaymentProcessed").order_by("position"))
    middle = recorded[len(recorded) // 2]
    until = max(event.recorded_at for event in recorded)

    page = plain_temporal("EventStoreWorkflow", {"operation": "get_events_by_type", "get_events_by_type": {
        "event_type": "PaymentProcessed", "since": middle.recorded_at.isoformat(), "until": until.isoformat()}})

    expected = [str(event.event_id) for event in recorded if middle.recorded_at <= event.recorded_at < until]
    assert expected and [event["event_id"] for event in page["page"]["events"]] == expected
    assert not page["page"]["has_more"]


@pytest.mark.parametrize("field, value, problem", [
    ("since", "yesterday", "must be an ISO 8601 date and time with an offset"),
    ("since", "2026-02-01T00:00:00", "must be an ISO 8601 date and time with an offset"),
    ("until", 1767225600, "must be text, not a number."),
    ("until", "2026-02-30T00:00:00Z", "must be an ISO 8601 date and time with an offset"),
], ids=["words", "no offset", "epoch number", "no such day"])
def test_get_events_by_type_with_a_malformed_time_fails_at_once(temporal, plain_temporal, field, value, problem):
    workflow_id = f"plain-{uuid.uuid4()}"
    started = time.monotonic()
    with pytest.raises(WorkflowFailureError) as raised:
        plain_temporal("EventStoreWorkflow", {"operation": "get_events_by_type", "get_events_by_type": {
            "event_type": "PaymentProcessed", field: value}}, workflow_id=workflow_id)

    assert time.monotonic() - started < 10
    assert raised.value.cause.type == "InvalidInput"
    assert raised.value.cause.message.startswith(f"Input field 'get_events_by_type.{field}' {problem}")
    history = temporal.run(temporal.client.get_workflow_handle(workflow_id).fetch_history())
    scheduled = [e for e in history.events if e.event_type == HistoryEventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
    assert scheduled == []  # refused before anything ran, let alone ran again


def test_the_replay_and_catch_up_workflows_refuse_malformed_input_at_once(plain_temporal):
    with pytest.raises(WorkflowFailureError) as replay:
        plain_temporal("ProjectionReplayWorkflow", [{"projection": "payment_summary", "batch_size": 0}])
    with pytest.raises(WorkflowFailureError) as catch_up:
        plain_temporal("ProjectionCatchUpWorkflow", {"seconds": "a while"})

    assert replay.value.cause.message == "Input field '[0].batch_size' must be at least 1, not 0."
    assert catch_up.value.cause.message == "Input field 'seconds' must be a number, not text 'a while'."


def test_the_replay_workflow_runs_for_a_plain_client(plain_temporal, random_commands):
    random_commands(20, payments=5)
    outcomes = plain_temporal("ProjectionReplayWorkflow", [{"projection": "payment_summary", "restart": True,
                                                            "batch_size": 10}], timeout=60)
    assert [(outcome["projection"], outcome["swapped"]) for outcome in outcomes] == [("payment_summary", True)]
