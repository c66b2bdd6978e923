"""PaymentEventSourcingWorkflow and PaymentHistoryQueryWorkflow through a real worker, Temporal dev
server and PostgreSQL."""

import json
import subprocess
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from temporalio.client import WorkflowFailureError
from temporalio.worker import Replayer

from config.devstack.embedded import temporal_binary
from eventstore import selectors
from eventstore.events import NO_STREAM, NewEvent
from eventstore.models import Event
from eventstore.store import append_events
from eventstore.temporal.connection import data_converter
from payments.client import IdempotencyKeyReused, workflow_id_for
from payments.messages import HistoryAnswer, HistoryQuery
from payments.models import PaymentSummary
from payments.workflows import PaymentEventSourcingWorkflow, PaymentHistoryQueryWorkflow
from tests.temporal_cli import cli_env, codec_options

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2026, 2, 1, tzinfo=UTC)


def history(payment_id):
    return list(selectors.read_stream(payment_id))


def around_now():
    now = timezone.now()
    return now - timedelta(minutes=5), now + timedelta(minutes=5)


def test_seed_scenario_one_create_yields_one_processed_event(run_command, command_request):
    result = run_command(command_request(payment_id="payment-123", organization_id="org-456", user_id="user-789",
                                         amount="100.00", currency="EUR", description="Test payment"))

    assert result.success, result.message
    assert (result.payment_id, result.version, result.status) == ("payment-123", 1, "PROCESSED")
    summary = PaymentSummary.objects.get(payment_id="payment-123")  # published before the result
    assert (summary.amount, summary.currency, summary.status) == (Decimal("100.00"), "EUR", "PROCESSED")
    [event] = history("payment-123")
    assert event.event_type == "PaymentProcessed"
    occurred_at = datetime.fromisoformat(event.data.pop("occurred_at"))  # business time, default: now
    assert event.recorded_at - timedelta(seconds=30) < occurred_at <= event.recorded_at
    assert event.data == {"payment_id": "payment-123", "organization_id": "org-456", "user_id": "user-789",
                          "amount": "100.00", "currency": "EUR", "description": "Test payment"}
    assert [str(event.event_id)] == result.event_ids
    metadata = event.metadata
    assert metadata["organization_id"] == "org-456" and metadata["user_id"] == "user-789"
    assert metadata["workflow_id"] == result.workflow_id and metadata["run_id"]
    assert metadata["correlation_id"] == result.correlation_id and metadata["causation_id"]


def test_seed_scenario_three_creates_found_by_type_in_the_date_range(run_concurrently, command_request):
    since, until = around_now()
    results = run_concurrently([command_request(amount="100.00", currency="EUR"),
                                command_request(amount="200.00", currency="USD"),
                                command_request(amount="300.00", currency="EUR")])

    assert all(result.success for result in results)
    found = list(selectors.events_by_type("PaymentProcessed", since=since, until=until))
    assert sorted((e.data["amount"], e.data["currency"]) for e in found) == [
        ("100.00", "EUR"), ("200.00", "USD"), ("300.00", "EUR")]


def test_a_full_lifecycle_and_its_rejections(run_command, command_request):
    payment_id = f"payment-{uuid.uuid4().hex[:8]}"
    created = run_command(command_request(payment_id=payment_id, amount="50.00"))
    refunded = run_command(command_request("REFUND", payment_id, amount="20.00"))
    too_much = run_command(command_request("REFUND", payment_id, amount="30.01"))
    no_cancel = run_command(command_request("CANCEL", payment_id, amount=None))

    assert created.success and refunded.success
    assert refunded.version == 2 and refunded.status == "PARTIALLY_REFUNDED"
    assert not too_much.success and "exceeds what is left" in too_much.message
    assert not no_cancel.success and "already has refunds" in no_cancel.message
    assert too_much.event_ids == [] and too_much.version == 2
    assert [event.event_type for event in history(payment_id)] == ["PaymentProcessed", "PaymentRefunded"]


def test_a_refusal_about_another_organizations_payment_tells_nothing_of_it(run_command, command_request):
    payment_id = f"payment-{uuid.uuid4().hex[:8]}"
    missing = [run_command(command_request(kind, payment_id, amount=amount, organization_id="org-other"))
               for kind, amount in (("REFUND", "1.00"), ("CANCEL", None))]
    assert run_command(command_request(payment_id=payment_id, amount="50.00")).success
    run_command(command_request("REFUND", payment_id, amount="5.00"))
    others = [run_command(command_request(kind, payment_id, amount=amount, organization_id="org-other"))
              for kind, amount in (("REFUND", "1.00"), ("CANCEL", None))]
    taken = run_command(command_request(payment_id=payment_id, amount="5.00", organization_id="org-other"))

    def told(result):
        return result.success, result.message, result.payment_id, result.version, result.status, result.code

    assert [told(result) for result in others] == [told(result) for result in missing] == [
        (False, f"Payment {payment_id} does not exist.", payment_id, 0, "", "payment_not_found")] * 2
    assert (taken.version, taken.status, taken.code) == (0, "", "payment_id_taken")
    assert "org-456" not in taken.message and "PARTIALLY" not in taken.message


def test_a_create_without_a_payment_id_gets_one_that_survives_a_replay(run_command, command_request, temporal):
    key = f"key-{uuid.uuid4()}"
    request = replace(command_request(idempotency_key=key), payment_id="")
    result = run_command(request)
    again = run_command(request)

    assert result.success and result.payment_id.startswith("payment-") and uuid.UUID(result.payment_id[8:]).version == 7
    assert (again.payment_id, again.event_ids, again.replayed) == (result.payment_id, result.event_ids, True)
    workflow_history = temporal.run(temporal.client.get_workflow_handle(result.workflow_id).fetch_history())
    replayer = Replayer(workflows=[PaymentEventSourcingWorkflow], data_converter=data_converter())
    temporal.run(replayer.replay_workflow(workflow_history))


@pytest.mark.parametrize("overrides, message", [
    (dict(kind="PAYOUT"), "Unknown command 'PAYOUT'"),
    (dict(amount="-1.00"), "greater than zero"),
    (dict(amount="0.001"), "at most 2 decimals"),
    (dict(currency="ABC"), "not an ISO 4217 currency"),
    (dict(payment_id="bad id"), "payment id 'bad id' is not valid"),
    (dict(kind="REFUND"), "does not exist"),
])
def test_rejections_are_results_and_write_nothing(run_command, command_request, overrides, message):
    before = Event.objects.count()
    result = run_command(command_request(**overrides))
    assert not result.success
    assert message in result.message
    assert result.event_ids == []
    assert Event.objects.count() == before


def test_concurrent_refunds_never_exceed_the_amount(run_command, run_concurrently, command_request):
    payment_id = f"payment-{uuid.uuid4().hex[:8]}"
    assert run_command(command_request(payment_id=payment_id, amount="10.00")).success

    results = run_concurrently([command_request("REFUND", payment_id, amount="1.00") for _ in range(20)], timeout=240)

    assert sum(result.success for result in results) == 10
    assert all("exceeds what is left" in result.message for result in results if not result.success)
    events = history(payment_id)
    assert [event.version for event in events] == list(range(1, 12))
    assert sum(Decimal(e.data["amount"]) for e in events[1:]) == Decimal("10.00")
    assert events[-1].data["refunded_total"] == "10.00"


def test_same_idempotency_key_runs_the_command_once(run_command, run_concurrently, command_request):
    command = command_request(idempotency_key=f"key-{uuid.uuid4()}")

    first = run_command(command)
    again = run_command(command)
    concurrent = run_concurrently([command] * 5)

    assert first.success
    assert not first.replayed and again.replayed and all(result.replayed for result in concurrent)
    same = lambda result: replace(result, replayed=False)  # noqa: E731
    assert same(again) == first and all(same(result) == first for result in concurrent)
    assert len(history(first.payment_id)) == 1
    assert first.workflow_id == workflow_id_for("org-456", command.idempotency_key)


def test_same_idempotency_key_with_another_body_is_refused(run_command, command_request):
    key = f"key-{uuid.uuid4()}"
    run_command(command_request(idempotency_key=key, amount="10.00"))
    with pytest.raises(IdempotencyKeyReused):
        run_command(command_request(idempotency_key=key, amount="11.00"))


def test_recorded_histories_replay_deterministically(temporal, run_command, command_request):
    payment_id = f"payment-{uuid.uuid4().hex[:8]}"
    results = [run_command(command_request(payment_id=payment_id, amount="10.00")),
               run_command(command_request("REFUND", payment_id, amount="3.00")),
               run_command(command_request("CANCEL", payment_id, amount=None)),
               run_command(command_request(kind="NOPE"))]

    async def replay_all():
        replayer = Replayer(workflows=[PaymentEventSourcingWorkflow], data_converter=data_converter())
        for result in results:
            history_ = await temporal.client.get_workflow_handle(result.workflow_id).fetch_history()
            await replayer.replay_workflow(history_)

    temporal.run(replay_all())


def test_a_rerun_after_the_append_committed_answers_with_the_stored_events(run_command, command_request):
    """What a worker crash between the append and the workflow task's completion leaves behind."""
    key = f"key-{uuid.uuid4()}"
    payment_id = f"payment-{uuid.uuid4().hex[:8]}"
    append_events(stream_id=payment_id, aggregate_type="Payment", expected_version=NO_STREAM, events=[NewEvent(
        "PaymentProcessed",
        {"payment_id": payment_id, "organization_id": "org-456", "user_id": "user-789", "amount": "100.00",
         "currency": "EUR", "description": "Test payment"},
        {"causation_id": key},
    )])

    result = run_command(command_request(payment_id=payment_id, idempotency_key=key))

    assert result.success and result.version == 1 and result.status == "PROCESSED"
    assert result.event_ids == [str(event.event_id) for event in history(payment_id)]


def query_history(temporal, query: HistoryQuery) -> HistoryAnswer:
    return temporal.run(temporal.client.execute_workflow(
        PaymentHistoryQueryWorkflow.run, query, id=f"history-{uuid.uuid4()}", task_queue=temporal.task_queue))


def test_history_search_and_timeline_through_temporal(temporal, run_command, command_request):
    payment_id = f"payment-{uuid.uuid4().hex[:8]}"
    correlation = f"order-{uuid.uuid4().hex[:8]}"
    run_command(command_request(payment_id=payment_id, amount="30.00", correlation_id=correlation))
    run_command(command_request("REFUND", payment_id, amount="5.00", correlation_id=correlation))
    run_command(command_request("REFUND", payment_id, amount="5.00", correlation_id=correlation))

    history = query_history(temporal, HistoryQuery("history", payment_id=payment_id, limit=2))
    rest = query_history(temporal, HistoryQuery("history", payment_id=payment_id, after_position=history.next_after_position))
    timeline = query_history(temporal, HistoryQuery("timeline", correlation_id=correlation))
    search = query_history(temporal, HistoryQuery("search", event_type="PaymentRefunded", organization_ids=["org-456"],
                                                  currency="EUR", since=(START - timedelta(days=1)).isoformat()))

    stored = list(selectors.read_stream(payment_id))
    assert [e.version for e in history.events + rest.events] == [1, 2, 3] and rest.next_after_position is None
    assert [e.event_id for e in timeline.events] == [str(e.event_id) for e in stored]
    assert {e.event_id for e in search.events} >= {str(e.event_id) for e in stored[1:]}
    assert all(e.event_type == "PaymentRefunded" for e in search.events)


def test_query_errors_fail_the_workflow_instead_of_returning_nothing(temporal):
    with pytest.raises(WorkflowFailureError) as raised:
        query_history(temporal, HistoryQuery("search", since="yesterday"))
    assert "ISO 8601" in raised.value.cause.message
    with pytest.raises(WorkflowFailureError):
        query_history(temporal, HistoryQuery("history"))


SEED_COMMAND = {"type": "CREATE", "payment_id": "payment-123", "organization_id": "org-456", "user_id": "user-789",
                "amount": 100.00, "currency": "EUR", "description": "Test payment"}


def test_the_seed_command_from_the_temporal_cli_with_a_json_number_amount(temporal, live_server, codec_reader):
    """The seed's own request, typed at the `temporal` CLI: the amount 100.00 as a JSON number. The CLI
    encrypts and decrypts through the web app's codec endpoint, as every client of the namespace must."""
    completed = subprocess.run(
        [temporal_binary(), "workflow", "execute", "--address", temporal.address, "--namespace", temporal.client.namespace,
         "--task-queue", temporal.task_queue, "--type", "PaymentEventSourcingWorkflow",
         "--workflow-id", f"cli-{uuid.uuid4()}", "--output", "json", *codec_options(live_server, codec_reader),
         "--input", '{"type": "CREATE", "payment_id": "payment-123", "organization_id": "org-456", "user_id": "user-789",'
         ' "amount": 100.00, "currency": "EUR", "description": "Test payment"}'],
        capture_output=True, text=True, timeout=60, env=cli_env(),
    )

    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)["result"]
    assert result["success"] and result["message"] == "Payment payment-123 processed: 100.00 EUR."
    [event] = history("payment-123")
    assert event.data["amount"] == "100.00"


@pytest.mark.parametrize("amount, currency, success, message", [
    (100.00, "EUR", True, "processed: 100.00 EUR."),
    (1500, "JPY", True, "processed: 1500 JPY."),
    (12.345, "KWD", True, "processed: 12.345 KWD."),
    (10.005, "EUR", False, "EUR amounts have at most 2 decimals; 10.005 has more."),
    (0.1 + 0.2, "EUR", False, "EUR amounts have at most 2 decimals; 0.30000000000000004 has more."),
    (1e20, "EUR", False, "over the limit"),
], ids=["euros", "yen", "dinars", "a tenth of a cent", "a float sum", "too large"])
def test_a_json_number_amount_is_checked_against_the_currencys_minor_units(
        plain_temporal, amount, currency, success, message):
    result = plain_temporal("PaymentEventSourcingWorkflow", {**SEED_COMMAND, "payment_id": f"payment-{uuid.uuid4()}",
                                                             "amount": amount, "currency": currency})
    assert (result["success"], message in result["message"]) == (success, True), result["message"]
    assert len(history(result["payment_id"])) == int(success)


@pytest.mark.parametrize("change, field, problem", [
    (dict(amount=True), "amount", "must be a decimal string such as \"100.00\" or a JSON number, not a boolean."),
    (dict(amount={"value": "1.00"}), "amount", "must be a decimal string such as \"100.00\" or a JSON number, "
                                               "not an object."),
    (dict(payment_id=None), "payment_id", "is required (PaymentCommandRequest needs type, payment_id, "
                                          "organization_id, user_id)."),
    (dict(paymentId="payment-1"), "paymentId", "is not a field of PaymentCommandRequest; did you mean 'payment_id'?"),
    (dict(organization_id=456), "organization_id", "must be text, not a number."),
    (dict(description=["a"]), "description", "must be text, not an array."),
], ids=["boolean amount", "object amount", "no payment id", "camel case", "number id", "list description"])
def test_a_malformed_command_fails_the_workflow_at_once_naming_the_field(plain_temporal, change, field, problem):
    started = time.monotonic()
    with pytest.raises(WorkflowFailureError) as raised:
        plain_temporal("PaymentEventSourcingWorkflow", {**SEED_COMMAND, **change})

    assert time.monotonic() - started < 10
    assert raised.value.cause.type == "InvalidInput"
    assert raised.value.cause.message == f"Input field '{field}' {problem}"
    assert not Event.objects.exists()


def test_the_history_workflow_answers_a_plain_client_and_refuses_a_malformed_query(plain_temporal, run_command,
                                                                                    command_request):
    created = run_command(command_request())

    answer = plain_temporal("PaymentHistoryQueryWorkflow", {"operation": "history", "payment_id": created.payment_id})
    with pytest.raises(WorkflowFailureError) as raised:
        plain_temporal("PaymentHistoryQueryWorkflow", {"operation": "search", "since": "last week"})

    assert [event["event_id"] for event in answer["events"]] == created.event_ids
    assert raised.value.cause.type == "InvalidInput"
    assert raised.value.cause.message.startswith("Input field 'since' must be an ISO 8601 date and time")


@pytest.mark.django_db(transaction=True)
def test_a_command_on_a_payment_whose_history_cannot_be_folded_is_refused_at_once(
    temporal, run_command, command_request, insert_unchecked
):
    """An event stored behind the checks breaks the payment's fold: its own organization is told the
    payment takes no command, any other is told what it would be told of a missing payment, and a
    CREATE of the id is told it is taken. None of them waits on retries; nothing is written."""
    created = run_command(command_request("CREATE", payment_id="payment-poisoned-1", organization_id="org-456"))
    assert created.success
    insert_unchecked("payment-poisoned-1", "PaymentProcessed", {"amount": "1"})  # the poison event

    own = run_command(command_request("REFUND", payment_id="payment-poisoned-1", amount="1.00"), timeout=20)
    other = run_command(command_request("REFUND", payment_id="payment-poisoned-1", amount="1.00",
                                        organization_id="org-other"), timeout=20)
    missing = run_command(command_request("REFUND", payment_id="payment-never-was", amount="1.00",
                                          organization_id="org-other"), timeout=20)
    taken = run_command(command_request("CREATE", payment_id="payment-poisoned-1", organization_id="org-other"),
                        timeout=20)

    assert (own.success, own.code) == (False, "payment_unreadable")
    assert "cannot be applied" in own.message
    assert (other.success, other.code, other.version, other.status) == (False, "payment_not_found", 0, "")
    assert other.message == missing.message.replace("payment-never-was", "payment-poisoned-1")
    assert (taken.success, taken.code) == (False, "payment_id_taken")
    assert Event.objects.filter(stream_id="payment-poisoned-1").count() == 2
