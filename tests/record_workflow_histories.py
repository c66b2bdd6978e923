"""Records the histories `tests/test_workflow_histories.py` replays: every workflow type of the
project, run on the test session's dev server and worker, written to its app's `histories/` folder.

Not part of `make test` (the file name keeps pytest from collecting it); run it by path:

    python -m config.devstack test tests/record_workflow_histories.py [-k NAME]

Each test overwrites the one file it names. Histories are frozen once committed: record again only
a history that no run in flight can have any more (README, "Temporal"), and keep the file of a
version that runs may still be on under a name of its own.
"""

import asyncio
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError

from analytics.messages import AnalyticsRequest
from analytics.workflows import EventAnalyticsWorkflow
from eventstore.actors import Actor
from eventstore.delivery import webhooks
from eventstore.events import ANY, NewEvent
from eventstore.store import append_events
from eventstore.temporal.messages import (
    AppendRequest,
    CatchUpRequest,
    DeliveryRequest,
    EventInput,
    EventsByTypeRequest,
    EventStoreRequest,
    ReadStreamRequest,
    RebuildRequest,
    ScheduledRunRequest,
    VerificationRequest,
)
from eventstore.temporal.workflows import (
    EventStoreWorkflow,
    ProjectionCatchUpWorkflow,
    ProjectionReplayWorkflow,
    SignTreeHeadWorkflow,
    VerifyChainWorkflow,
    WebhookDeliveryWorkflow,
)
from payments import approval_policies
from payments.client import submit_command, submit_decision
from payments.messages import ApprovalDecision, HistoryQuery
from payments.models import ApprovalPolicy
from payments.staff import create_finance_user
from payments.workflows import PaymentEventSourcingWorkflow, PaymentHistoryQueryWorkflow
from tests.eventstore.helpers import payment_events
from tests.webhook_receiver import Receiver
from tests.workflow_histories import HISTORY_FOLDERS, closing_event, cut_while_running, save

pytestmark = pytest.mark.django_db(transaction=True)

STORE, PAYMENTS, ANALYTICS = HISTORY_FOLDERS
SINCE, UNTIL = "2000-01-01T00:00:00+00:00", "2100-01-01T00:00:00+00:00"


@pytest.fixture
def record(temporal):
    """Runs a workflow and writes its first run's history to `path`: to its end, or, with `stop_when`,
    until `stop_when(history)` holds; then the workflow is terminated, and a run still going is cut
    while its last activity ran."""

    def record(path, workflow, argument, *, stop_when=None, failing=False):
        async def run_and_fetch():
            started = await temporal.client.start_workflow(workflow, argument, id=f"record-{uuid.uuid4()}",
                                                           task_queue=temporal.task_queue)
            first_run = temporal.client.get_workflow_handle(started.id, run_id=started.result_run_id)
            if stop_when is None:
                try:
                    await started.result()
                except WorkflowFailureError:
                    if not failing:
                        raise
                return await first_run.fetch_history()
            deadline = time.monotonic() + 120
            while not stop_when(history := await first_run.fetch_history()):
                assert time.monotonic() < deadline, "the workflow never got there"
                await asyncio.sleep(0.05)
            await temporal.client.get_workflow_handle(started.id).terminate("recorded")
            return history if closing_event(history) else cut_while_running(history)

        save(temporal.run(run_and_fetch(), timeout=180), path)

    return record


def completed_activities(count: int):
    def enough(history) -> bool:
        return sum(event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED for event in history.events) >= count

    return enough


def continued_as_new(history) -> bool:
    return history.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW


def some_events(stream_id: str = "payment-recorded") -> None:
    append_events(stream_id=stream_id, aggregate_type="Payment", expected_version=ANY,
                  events=payment_events(3, payment_id=stream_id))


def append(stream_id: str, expected: str) -> EventStoreRequest:
    """An append through the generic workflow: of an open aggregate type (Payment is command-only)."""
    return EventStoreRequest("append", append=AppendRequest(stream_id, "Ledger", [
        EventInput("Noted", {"amount": "1.00"}, {"correlation_id": "c-1"}),
    ], expected_version=expected))


def test_event_store_append(record):
    record(STORE / "event-store-append.json", EventStoreWorkflow.run, append("ledger-recorded", "no_stream"))


def test_event_store_append_conflict(record):
    append_events(stream_id="ledger-recorded", aggregate_type="Ledger", expected_version=ANY,
                  events=[NewEvent("Noted", {"amount": "1.00"})])
    record(STORE / "event-store-append-conflict.json", EventStoreWorkflow.run, append("ledger-recorded", "no_stream"),
           failing=True)


def test_event_store_get_events(record):
    some_events()
    record(STORE / "event-store-get-events.json", EventStoreWorkflow.run,
           EventStoreRequest("get_events", get_events=ReadStreamRequest("payment-recorded", limit=2)))


def test_event_store_get_events_by_type(record):
    some_events()
    record(STORE / "event-store-get-events-by-type.json", EventStoreWorkflow.run, EventStoreRequest(
        "get_events_by_type", get_events_by_type=EventsByTypeRequest("PaymentProcessed", since=SINCE, until=UNTIL)))


def test_projection_catch_up_mid_flight(record):
    some_events()
    record(STORE / "projection-catch-up-mid-flight.json", ProjectionCatchUpWorkflow.run,
           CatchUpRequest(seconds=0.2, idle_pause=0.05), stop_when=completed_activities(3))


def test_projection_catch_up_continued_as_new(record):
    record(STORE / "projection-catch-up-continued-as-new.json", ProjectionCatchUpWorkflow.run,
           CatchUpRequest(seconds=0, idle_pause=0), stop_when=continued_as_new)


def test_projection_replay(record):
    some_events()
    record(STORE / "projection-replay.json", ProjectionReplayWorkflow.run,
           [RebuildRequest("payment_summary", restart=True), RebuildRequest("payment_snapshots", restart=True)])


def test_sign_tree_head(record, ledger_key):
    some_events()
    record(STORE / "sign-tree-head.json", SignTreeHeadWorkflow.run, ScheduledRunRequest())


def test_verify_chain(record):
    some_events()
    record(STORE / "verify-chain.json", VerifyChainWorkflow.run, VerificationRequest())


def test_webhook_delivery_mid_flight(record):
    receiver = Receiver()
    try:
        endpoint = webhooks.register(url=receiver.url)
        some_events()
        record(STORE / "webhook-delivery-mid-flight.json", WebhookDeliveryWorkflow.run,
               DeliveryRequest(endpoint.pk, seconds=0.2), stop_when=completed_activities(3))
        assert receiver.received, "the cut history delivered events"
    finally:
        receiver.close()


def test_webhook_delivery_continued_as_new(record):
    receiver = Receiver()
    try:
        endpoint = webhooks.register(url=receiver.url)
        record(STORE / "webhook-delivery-continued-as-new.json", WebhookDeliveryWorkflow.run,
               DeliveryRequest(endpoint.pk, seconds=0), stop_when=continued_as_new)
    finally:
        receiver.close()


def test_webhook_delivery_endpoint_gone(record):
    record(STORE / "webhook-delivery-endpoint-gone.json", WebhookDeliveryWorkflow.run,
           DeliveryRequest(endpoint_id=2**31 - 1))


@pytest.mark.parametrize("kind", ["CREATE", "REFUND", "CANCEL"])
def test_payment_command(temporal, run_command, command_request, kind):
    payment_id = f"payment-{uuid.uuid4().hex[:12]}"
    steps = {"CREATE": ["CREATE"], "REFUND": ["CREATE", "REFUND"], "CANCEL": ["CREATE", "CANCEL"]}[kind]
    results = [run_command(command_request(step, payment_id, amount="10.00" if step != "REFUND" else "3.00"))
               for step in steps]
    assert results[-1].success, results[-1].message
    save(temporal.run(temporal.client.get_workflow_handle(results[-1].workflow_id).fetch_history()),
         PAYMENTS / f"{kind.lower()}.json")


def test_payment_command_with_its_actor(temporal, command_request):
    """A command submitted with its actor sealed: the append carries the seal (patch "actor-seals")."""
    payment_id = f"payment-{uuid.uuid4().hex[:12]}"
    fiona = Actor(kind="user", id="7", name="fiona", channel="admin")
    for step, amount in (("CREATE", "10.00"), ("REFUND", "3.00")):
        result = temporal.run(submit_command(temporal.client, command_request(step, payment_id, amount=amount),
                                             actor=fiona, task_queue=temporal.task_queue))
        assert result.success, result.message
    save(temporal.run(temporal.client.get_workflow_handle(result.workflow_id).fetch_history()),
         PAYMENTS / "refund-with-actor.json")


def test_payment_command_refused(temporal, run_command, command_request):
    result = run_command(command_request("REFUND", amount="1.00"))
    assert not result.success
    save(temporal.run(temporal.client.get_workflow_handle(result.workflow_id).fetch_history()),
         PAYMENTS / "refused.json")


@pytest.mark.parametrize("outcome", ["approve", "reject", "expire"])
def test_payment_command_under_approval(temporal, command_request, outcome):
    """A refund the approval policy covers: requested, then approved, rejected or left to expire."""
    requester = create_finance_user(username="requester", password="pw", organizations=["org-456"])
    approver = create_finance_user(username="approver", password="pw", organizations=["org-456"], approver=True)
    as_actor = lambda user: Actor(kind="user", id=str(user.pk), name=user.username, channel="admin")  # noqa: E731
    approval_policies.save_rule(rule=ApprovalPolicy(organization_id="org-456", command_type="REFUND"),
                                actor=as_actor(approver))
    payment_id = f"payment-{uuid.uuid4().hex[:12]}"
    submit = lambda request: temporal.run(submit_command(  # noqa: E731
        temporal.client, request, actor=as_actor(requester), answer_early=True, task_queue=temporal.task_queue))
    assert submit(command_request("CREATE", payment_id, amount="10.00")).success
    asked = submit(command_request("REFUND", payment_id, amount="3.00",
                                   approval_timeout_seconds=1 if outcome == "expire" else 3600))
    assert asked.approval_state == "pending", asked.message
    if outcome != "expire":
        temporal.run(submit_decision(temporal.client, asked.workflow_id, ApprovalDecision(
            "approve" if outcome == "approve" else "reject", "Not returned"), actor=as_actor(approver)))
    handle = temporal.client.get_workflow_handle_for(PaymentEventSourcingWorkflow.run, asked.workflow_id)
    assert temporal.run(handle.result()).approval_state == {"approve": "approved", "reject": "rejected",
                                                            "expire": "expired"}[outcome]
    save(temporal.run(handle.fetch_history()), PAYMENTS / f"refund-under-approval-{outcome}.json")


@pytest.mark.parametrize("query", [
    HistoryQuery("history", payment_id="payment-recorded"),
    HistoryQuery("search", event_type="PaymentProcessed", since=SINCE, until=UNTIL),
    HistoryQuery("timeline", correlation_id="corr-1"),
], ids=lambda query: query.operation)
def test_payment_history_query(record, query):
    some_events()
    record(PAYMENTS / f"history-query-{query.operation}.json", PaymentHistoryQueryWorkflow.run, query)


@pytest.mark.parametrize("operation", ["statistics", "trends"])
def test_event_analytics(record, random_commands, operation):
    random_commands(20, payments=5)
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    record(ANALYTICS / f"analytics-{operation}.json", EventAnalyticsWorkflow.run, AnalyticsRequest(
        operation, "PaymentProcessed", since=(today - timedelta(days=7)).isoformat(),
        until=(today + timedelta(days=1)).isoformat()))


def imported_settlement(monkeypatch) -> int:
    """A settlement file of two payments, one settled for more than was paid, imported without its
    run started (the recorder starts it)."""
    from payments.models import Organization
    from payments.reconciliation import services
    from tests.payments.reconciliation.settlement_files import native_line, record_payment, settlement_file

    monkeypatch.setattr(services.client, "start_reconciliation", lambda reconciliation_id, key: "recorded")
    record_payment("payment-recorded-1", "org-recorded", "100.00", "EUR", "2026-11-02")
    record_payment("payment-recorded-2", "org-recorded", "200.00", "EUR", "2026-11-03")
    upload = settlement_file([native_line("payment-recorded-1", "charge", "100.00", "1.00", "99.00", day="2026-11-02"),
                              native_line("payment-recorded-2", "charge", "210.00", "1.00", "209.00", day="2026-11-03")])
    organization = Organization.objects.create(id="org-recorded", name="Recorded")
    actor = Actor(kind="user", id="1", name="recorder", channel="api")
    return services.import_settlement_file(organization=organization, upload=upload, file_name="settlement.csv",
                                           actor=actor).reconciliation.pk


def test_reconciliation(record, monkeypatch):
    from payments.reconciliation.messages import ReconciliationRequest, ResolutionRequest
    from payments.reconciliation.workflows import ReconciliationResolutionWorkflow, ReconciliationWorkflow

    reconciliation_id = imported_settlement(monkeypatch)
    record(PAYMENTS / "reconciliation.json", ReconciliationWorkflow.run, ReconciliationRequest(reconciliation_id))
    record(PAYMENTS / "reconciliation-resolution.json", ReconciliationResolutionWorkflow.run, ResolutionRequest(
        reconciliation_id, 1, "Surcharge agreed.", {"kind": "user", "id": "1", "name": "recorder", "channel": "api"}))
