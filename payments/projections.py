"""Projections of payment events: the PaymentSummary read model and aggregate snapshots."""

from decimal import Decimal

from django.conf import settings

from eventstore.events import RecordedEvent
from eventstore.models import Snapshot
from eventstore.projections import Projection
from eventstore.snapshots import save_snapshot
from payments.domain import AGGREGATE_TYPE, SNAPSHOT_SCHEMA_VERSION, PaymentAggregate, PaymentStatus
from payments.models import PaymentSummary
from payments.selectors import load_payment

SUMMARY_FIELDS = [
    "organization_id", "user_id", "amount", "refunded", "currency", "status", "description", "correlation_id",
    "created_at", "updated_at", "occurred_at", "version", "last_position", "incomplete",
]


class PaymentSummaryProjection(Projection):
    """One row per payment, folded with the domain's own rules, in bulk per batch of events.

    A row that lacks one of its payment's events (set aside by an operator) is marked incomplete:
    when the event is set aside, or when the row is folded past a version it never saw.
    """

    name = "payment_summary"
    models = (PaymentSummary,)

    def apply(self, events: list[RecordedEvent]) -> None:
        events = [event for event in events if event.aggregate_type == AGGREGATE_TYPE]
        if not events:
            return
        rows = {row.payment_id: row for row in PaymentSummary.objects.filter(
            payment_id__in={event.stream_id for event in events})}
        self._fold(events, rows)

    def apply_appended(self, events: list[RecordedEvent]) -> bool:
        """Only onto a row that holds the payment up to the version before these events (locked, so
        the engine cannot write it meanwhile); otherwise the engine folds them in commit order."""
        if events[0].aggregate_type != AGGREGATE_TYPE:
            return True  # nothing of this projection's
        if events[0].version == 1:
            row = None  # a payment's first event: no row can hold any of it
        else:
            row = PaymentSummary.objects.select_for_update().filter(payment_id=events[0].stream_id).first()
        if (row.version if row is not None else 0) != events[0].version - 1:
            return False
        self._fold(events, {row.payment_id: row} if row is not None else {})
        return True

    def _fold(self, events: list[RecordedEvent], rows: dict[str, PaymentSummary]) -> None:
        changed = set()
        for event in events:
            row = rows.get(event.stream_id)
            if row is not None and event.version <= row.version:
                continue  # already applied: handlers are idempotent
            rows[event.stream_id] = _applied(row, event)
            changed.add(event.stream_id)
        PaymentSummary.objects.bulk_create(
            [rows[payment_id] for payment_id in changed],
            update_conflicts=True, unique_fields=["payment_id"], update_fields=SUMMARY_FIELDS,
        )

    def set_aside(self, event: RecordedEvent) -> None:
        if event.aggregate_type == AGGREGATE_TYPE:
            PaymentSummary.objects.filter(payment_id=event.stream_id).update(incomplete=True)


def _applied(row: PaymentSummary | None, event: RecordedEvent) -> PaymentSummary:
    payment = _aggregate(row, event.stream_id)
    payment.fold([(event.event_type, event.data)])
    skipped = event.version != (row.version if row is not None else 0) + 1  # an earlier event was set aside
    if row is None:
        row = PaymentSummary(payment_id=event.stream_id, created_at=event.recorded_at,
                             correlation_id=event.metadata.get("correlation_id", "")[:200])
    row.incomplete = row.incomplete or skipped
    row.organization_id, row.user_id = payment.organization_id, payment.user_id
    row.amount, row.refunded, row.currency = payment.amount, payment.refunded, payment.currency
    row.status, row.description = str(payment.status), payment.description
    row.occurred_at = payment.occurred_at or row.occurred_at
    row.version, row.last_position, row.updated_at = event.version, event.position, event.recorded_at
    return row


def _aggregate(row: PaymentSummary | None, payment_id: str) -> PaymentAggregate:
    if row is None:
        return PaymentAggregate(payment_id)
    return PaymentAggregate(
        payment_id=payment_id, version=row.version, status=PaymentStatus(row.status),
        organization_id=row.organization_id, user_id=row.user_id, amount=Decimal(row.amount),
        refunded=Decimal(row.refunded), currency=row.currency, description=row.description,
    )


class PaymentSnapshotProjection(Projection):
    """Every PAYMENTS_SNAPSHOT_EVERY events of a payment, its state is stored as a snapshot."""

    name = "payment_snapshots"
    models = (Snapshot,)
    prompt = False  # only speeds up loading; the catch-up loop keeps it current

    def apply(self, events: list[RecordedEvent]) -> None:
        every = settings.PAYMENTS_SNAPSHOT_EVERY
        for event in events:
            if event.aggregate_type != AGGREGATE_TYPE or event.version % every:
                continue
            payment = load_payment(event.stream_id, version=event.version)
            save_snapshot(stream_id=event.stream_id, version=event.version, aggregate_type=AGGREGATE_TYPE,
                          state=payment.to_snapshot(), position=event.position, recorded_at=event.recorded_at,
                          schema_version=SNAPSHOT_SCHEMA_VERSION)


PROJECTIONS = [PaymentSummaryProjection(), PaymentSnapshotProjection()]
