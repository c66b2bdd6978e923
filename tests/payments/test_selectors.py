"""Loading payments with snapshots, and time travel by version and by time."""

from datetime import timedelta
from decimal import Decimal

import pytest

from eventstore.projections.engine import apply_pending
from eventstore.projections.models import Snapshot
from eventstore.projections.snapshots import drop_snapshots
from payments.domain import CommandType, PaymentAggregate, PaymentCommand
from payments.projections import PaymentSnapshotProjection
from payments.selectors import load_payment, payment_state_as_of

pytestmark = pytest.mark.django_db(transaction=True)


def long_payment(payment_id: str, refunds: int, per_append: int = 100) -> None:
    """A 100.00 EUR payment refunded 0.01 at a time, appended `per_append` events at a time."""
    from eventstore.events import NewEvent
    from eventstore.store import append_events

    payment = PaymentAggregate(payment_id)
    payment.execute(PaymentCommand(CommandType.CREATE, payment_id, "org-1", "u-1", "100.00", "EUR"))
    for _ in range(refunds):
        payment.execute(PaymentCommand(CommandType.REFUND, payment_id, "org-1", "u-1", "0.01", "EUR"))
    events = [NewEvent(e.event_type, e.data) for e in payment.uncommitted_events]
    for start in range(0, len(events), per_append):
        append_events(stream_id=payment_id, aggregate_type="Payment", events=events[start:start + per_append],
                      expected_version=start)


def test_loading_from_a_snapshot_equals_a_full_fold(settings):
    settings.PAYMENTS_SNAPSHOT_EVERY = 100
    long_payment("payment-long", refunds=349)
    apply_pending(PaymentSnapshotProjection())

    assert list(Snapshot.objects.filter(stream_id="payment-long").values_list("version", flat=True)) == [300, 200, 100]
    with_snapshots = load_payment("payment-long")
    without = load_payment("payment-long", use_snapshots=False)
    assert with_snapshots == without
    assert (without.version, without.refunded) == (350, Decimal("3.49"))
    for version in (1, 99, 100, 101, 250, 300, 350):
        assert load_payment("payment-long", version=version) == load_payment(
            "payment-long", version=version, use_snapshots=False)


def test_snapshots_are_disposable(settings, random_commands):
    settings.PAYMENTS_SNAPSHOT_EVERY = 10
    long_payment("payment-d", refunds=45)
    random_commands(100, payments=5)
    apply_pending(PaymentSnapshotProjection())
    assert Snapshot.objects.filter(stream_id="payment-d").count() == 4
    payment_ids = ["payment-d", *(f"payment-mix-{i}" for i in range(5))]
    before = {payment_id: load_payment(payment_id) for payment_id in payment_ids}
    assert drop_snapshots() == 4
    assert {payment_id: load_payment(payment_id) for payment_id in payment_ids} == before


def test_state_as_of_a_version_and_a_time():
    long_payment("payment-tt", refunds=3, per_append=1)
    from eventstore.selectors import read_stream

    events = list(read_stream("payment-tt"))
    at_two = payment_state_as_of("payment-tt", version=2)
    assert (at_two.version, at_two.state["refunded"], at_two.state["status"]) == (2, "0.01", "PARTIALLY_REFUNDED")
    assert at_two.recorded_at == events[1].recorded_at

    at_first_time = payment_state_as_of("payment-tt", at=events[0].recorded_at)
    assert at_first_time.version == 1 and at_first_time.state["refunded"] == "0.00"
    assert payment_state_as_of("payment-tt", at=events[0].recorded_at - timedelta(seconds=1)) is None
    assert payment_state_as_of("payment-nope") is None
