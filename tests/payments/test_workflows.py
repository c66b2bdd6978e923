"""PaymentEventSourcingWorkflow through a real worker, Temporal dev server and PostgreSQL."""

import uuid
from dataclasses import replace
from decimal import Decimal

import pytest
from temporalio.worker import Replayer

from eventstore import selectors
from eventstore.events import NO_STREAM, NewEvent
from eventstore.models import Event
from eventstore.store import append_events
from payments.models import PaymentSummary
from payments.client import IdempotencyKeyReused, workflow_id_for
from payments.workflows import PaymentEventSourcingWorkflow
from tests.payments.helpers import around_now, request, run, run_many

pytestmark = pytest.mark.django_db(transaction=True)


def history(payment_id):
    return list(selectors.read_stream(payment_id))


def test_seed_scenario_one_create_yields_one_processed_event(temporal):
    result = run(temporal, request(payment_id="payment-123", organization_id="org-456", user_id="user-789",
                                   amount="100.00", currency="EUR", description="Test payment"))

    assert result.success, result.message
    assert (result.payment_id, result.version, result.status) == ("payment-123", 1, "PROCESSED")
    summary = PaymentSummary.objects.get(payment_id="payment-123")  # published before the result
    assert (summary.amount, summary.currency, summary.status) == (Decimal("100.00"), "EUR", "PROCESSED")
    [event] = history("payment-123")
    assert event.event_type == "PaymentProcessed"
    assert event.data == {"payment_id": "payment-123", "organization_id": "org-456", "user_id": "user-789",
                          "amount": "100.00", "currency": "EUR", "description": "Test payment"}
    assert [str(event.event_id)] == result.event_ids
    metadata = event.metadata
    assert metadata["organization_id"] == "org-456" and metadata["user_id"] == "user-789"
    assert metadata["workflow_id"] == result.workflow_id and metadata["run_id"]
    assert metadata["correlation_id"] == result.correlation_id and metadata["causation_id"]


def test_seed_scenario_three_creates_found_by_type_in_the_date_range(temporal):
    since, until = around_now()
    results = run_many(temporal, [request(amount="100.00", currency="EUR"), request(amount="200.00", currency="USD"),
                                  request(amount="300.00", currency="EUR")])

    assert all(result.success for result in results)
    found = list(selectors.events_by_type("PaymentProcessed", since=since, until=until))
    assert sorted((e.data["amount"], e.data["currency"]) for e in found) == [
        ("100.00", "EUR"), ("200.00", "USD"), ("300.00", "EUR")]


def test_a_full_lifecycle_and_its_rejections(temporal):
    payment_id = f"payment-{uuid.uuid4().hex[:8]}"
    created = run(temporal, request(payment_id=payment_id, amount="50.00"))
    refunded = run(temporal, request("REFUND", payment_id, amount="20.00"))
    too_much = run(temporal, request("REFUND", payment_id, amount="30.01"))
    no_cancel = run(temporal, request("CANCEL", payment_id, amount=None))

    assert created.success and refunded.success
    assert refunded.version == 2 and refunded.status == "PARTIALLY_REFUNDED"
    assert not too_much.success and "exceeds what is left" in too_much.message
    assert not no_cancel.success and "already has refunds" in no_cancel.message
    assert too_much.event_ids == [] and too_much.version == 2
    assert [event.event_type for event in history(payment_id)] == ["PaymentProcessed", "PaymentRefunded"]


@pytest.mark.parametrize("overrides, message", [
    (dict(kind="PAYOUT"), "Unknown command 'PAYOUT'"),
    (dict(amount="-1.00"), "greater than zero"),
    (dict(amount="0.001"), "at most 2 decimals"),
    (dict(currency="ABC"), "not an ISO 4217 currency"),
    (dict(payment_id="bad id"), "payment id 'bad id' is not valid"),
    (dict(kind="REFUND"), "does not exist"),
])
def test_rejections_are_results_and_write_nothing(temporal, overrides, message):
    before = Event.objects.count()
    result = run(temporal, request(**overrides))
    assert not result.success
    assert message in result.message
    assert result.event_ids == []
    assert Event.objects.count() == before


def test_concurrent_refunds_never_exceed_the_amount(temporal):
    payment_id = f"payment-{uuid.uuid4().hex[:8]}"
    assert run(temporal, request(payment_id=payment_id, amount="10.00")).success

    results = run_many(temporal, [request("REFUND", payment_id, amount="1.00") for _ in range(20)], timeout=240)

    assert sum(result.success for result in results) == 10
    assert all("exceeds what is left" in result.message for result in results if not result.success)
    events = history(payment_id)
    assert [event.version for event in events] == list(range(1, 12))
    assert sum(Decimal(e.data["amount"]) for e in events[1:]) == Decimal("10.00")
    assert events[-1].data["refunded_total"] == "10.00"


def test_same_idempotency_key_runs_the_command_once(temporal):
    command = request(idempotency_key=f"key-{uuid.uuid4()}")

    first = run(temporal, command)
    again = run(temporal, command)
    concurrent = run_many(temporal, [command] * 5)

    assert first.success
    assert not first.replayed and again.replayed and all(result.replayed for result in concurrent)
    same = lambda result: replace(result, replayed=False)  # noqa: E731
    assert same(again) == first and all(same(result) == first for result in concurrent)
    assert len(history(first.payment_id)) == 1
    assert first.workflow_id == workflow_id_for("org-456", command.idempotency_key)


def test_same_idempotency_key_with_another_body_is_refused(temporal):
    key = f"key-{uuid.uuid4()}"
    run(temporal, request(idempotency_key=key, amount="10.00"))
    with pytest.raises(IdempotencyKeyReused):
        run(temporal, request(idempotency_key=key, amount="11.00"))


def test_recorded_histories_replay_deterministically(temporal):
    payment_id = f"payment-{uuid.uuid4().hex[:8]}"
    results = [run(temporal, request(payment_id=payment_id, amount="10.00")),
               run(temporal, request("REFUND", payment_id, amount="3.00")),
               run(temporal, request("CANCEL", payment_id, amount=None)),
               run(temporal, request(kind="NOPE"))]

    async def replay_all():
        replayer = Replayer(workflows=[PaymentEventSourcingWorkflow])
        for result in results:
            history_ = await temporal.client.get_workflow_handle(result.workflow_id).fetch_history()
            await replayer.replay_workflow(history_)

    temporal.run(replay_all())


def test_a_rerun_after_the_append_committed_answers_with_the_stored_events(temporal):
    """What a worker crash between the append and the workflow task's completion leaves behind."""
    key = f"key-{uuid.uuid4()}"
    payment_id = f"payment-{uuid.uuid4().hex[:8]}"
    append_events(stream_id=payment_id, aggregate_type="Payment", expected_version=NO_STREAM, events=[NewEvent(
        "PaymentProcessed",
        {"payment_id": payment_id, "organization_id": "org-456", "user_id": "user-789", "amount": "100.00",
         "currency": "EUR", "description": "Test payment"},
        {"causation_id": key},
    )])

    result = run(temporal, request(payment_id=payment_id, idempotency_key=key))

    assert result.success and result.version == 1 and result.status == "PROCESSED"
    assert result.event_ids == [str(event.event_id) for event in history(payment_id)]
