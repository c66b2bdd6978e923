"""Projection rebuild throughput beside a plain read of the same events through the store, and a long
stream loaded with and without snapshots, in one run on one database."""

import uuid

import pytest
from django.conf import settings

from eventstore import selectors
from eventstore.events import NO_STREAM, NewEvent
from eventstore.projections.engine import apply_pending
from eventstore.projections.rebuild import rebuild
from eventstore.store import append_events
from payments.domain import AGGREGATE_TYPE, CommandType, PaymentAggregate, PaymentCommand
from payments.projections import PaymentSnapshotProjection, PaymentSummaryProjection
from payments.selectors import load_payment
from tests.benchmarks.measure import Comparison, timed
from tests.threads import in_threads

pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600), pytest.mark.django_db(transaction=True)]

FULL = dict(events=1_000_000, stream_events=10_000)
QUICK = dict(events=50_000, stream_events=2000)
LOADER_THREADS = 4


def payment_life(payment_id: str, refunds: int) -> list[NewEvent]:
    """A payment decided by the domain: created, then refunded 1.00 at a time."""
    payment = PaymentAggregate(payment_id)
    payment.execute(PaymentCommand(CommandType.CREATE, payment_id, "org-bench", "user-bench", "100000.00", "EUR"))
    for _ in range(refunds):
        payment.execute(PaymentCommand(CommandType.REFUND, payment_id, "org-bench", "user-bench", "1.00", "EUR"))
    return [NewEvent(event.event_type, event.data, {"correlation_id": payment_id}) for event in payment.uncommitted_events]


def load(events: int, per_payment: int = 10) -> None:
    run, payments = uuid.uuid4().hex[:6], events // per_payment

    def work(thread: int) -> None:
        for index in range(thread, payments, LOADER_THREADS):
            payment_id = f"payment-bench-{run}-{index}"
            append_events(stream_id=payment_id, aggregate_type=AGGREGATE_TYPE,
                          events=payment_life(payment_id, per_payment - 1), expected_version=NO_STREAM)

    in_threads(LOADER_THREADS, work)


def test_rebuild_beside_a_plain_read_and_stream_load_with_snapshots(bench, size):
    bench.describe_data(f"{size.events:,} events over {size.events // 10:,} payments; "
                        f"one stream of {size.stream_events:,} events")
    bench.say(f"Loading {size.events:,} events (10 per payment, {LOADER_THREADS} threads)...")
    seconds = timed(lambda: load(size.events))
    bench.say(f"loaded at {size.events / seconds:,.0f} events/s")
    rebuild_beside_plain_read(bench, size.events)
    stream_load(bench, size.stream_events)


def rebuild_beside_plain_read(bench, events: int) -> None:
    read_events = []
    read = timed(lambda: read_events.append(sum(1 for _ in selectors.follow_all(page_size=5000))))
    assert read_events == [events]
    rebuilt = timed(lambda: rebuild(PaymentSummaryProjection(), batch_size=5000, restart=True))
    bench.report(Comparison("rebuild payment_summary (incl. swap)", "events/s", events / rebuilt,
                            events / read, "plain read through the store", target=0.8))


def stream_load(bench, count: int) -> None:
    payment_id = f"payment-long-{uuid.uuid4().hex[:6]}"
    life = payment_life(payment_id, count - 1)
    for start in range(0, count, 1000):
        append_events(stream_id=payment_id, aggregate_type=AGGREGATE_TYPE, events=life[start:start + 1000],
                      expected_version=start)
    apply_pending(PaymentSnapshotProjection(), batch_size=5000)
    assert load_payment(payment_id) == load_payment(payment_id, use_snapshots=False)
    with_snapshots = min(timed(lambda: load_payment(payment_id)) for _ in range(5))
    without = min(timed(lambda: load_payment(payment_id, use_snapshots=False)) for _ in range(5))
    bench.report(Comparison(
        f"load a {count:,}-event stream, snapshot every {settings.PAYMENTS_SNAPSHOT_EVERY}", "ms",
        with_snapshots * 1000, without * 1000, "full fold without snapshots", higher_is_better=False,
    ))
