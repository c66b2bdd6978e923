"""`manage.py bench_projections`: rebuild throughput beside a plain read of the same events, and
stream loading with and without snapshots, in one run on one database."""

import uuid

from django.conf import settings
from django.core.management.base import BaseCommand

from eventstore import selectors
from eventstore.benchmarking import Comparison, describe_data, report, in_threads, scratch_database, timed
from eventstore.events import NO_STREAM, NewEvent
from eventstore.projections import apply_pending, rebuild
from eventstore.store import append_events
from payments.domain import AGGREGATE_TYPE, CommandType, PaymentAggregate, PaymentCommand
from payments.projections import PaymentSnapshotProjection, PaymentSummaryProjection
from payments.selectors import load_payment

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


class Command(BaseCommand):
    help = "Projection rebuild beside a plain sequential read; stream load with and without snapshots."

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=1_000_000)
        parser.add_argument("--stream-events", type=int, default=10_000)

    def handle(self, *args, events, stream_events, **options):
        with scratch_database():
            describe_data(f"{events:,} events over {events // 10:,} payments; one stream of {stream_events:,} events")
            self.stdout.write(f"Loading {events:,} events (10 per payment, {LOADER_THREADS} threads)...")
            seconds = timed(lambda: load(events))
            self.stdout.write(f"loaded at {events / seconds:,.0f} events/s")
            self._rebuild(events)
            self._stream_load(stream_events)

    def _rebuild(self, events: int) -> None:
        read = timed(lambda: sum(1 for _ in selectors.follow_all(page_size=5000)))
        rebuilt = timed(lambda: rebuild(PaymentSummaryProjection(), batch_size=5000, restart=True))
        report(self.stdout, Comparison("rebuild payment_summary (incl. swap)", "events/s", events / rebuilt,
                                       events / read, "plain read through the store", target=1 / 3))
        self.stdout.write(f"   rebuild takes {rebuilt / read:.2f}x the time of the plain read (target: at most 3x)")

    def _stream_load(self, count: int) -> None:
        payment_id = f"payment-long-{uuid.uuid4().hex[:6]}"
        life = payment_life(payment_id, count - 1)
        for start in range(0, count, 1000):
            append_events(stream_id=payment_id, aggregate_type=AGGREGATE_TYPE, events=life[start:start + 1000],
                          expected_version=start)
        apply_pending(PaymentSnapshotProjection(), batch_size=5000)
        with_snapshots = min(timed(lambda: load_payment(payment_id)) for _ in range(5))
        without = min(timed(lambda: load_payment(payment_id, use_snapshots=False)) for _ in range(5))
        report(self.stdout, Comparison(
            f"load a {count:,}-event stream, snapshot every {settings.PAYMENTS_SNAPSHOT_EVERY}", "ms",
            with_snapshots * 1000, without * 1000, "full fold without snapshots", higher_is_better=False,
        ))
