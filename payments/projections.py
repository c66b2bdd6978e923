"""Projections of payment events: the PaymentSummary read model and aggregate snapshots."""

from decimal import Decimal

from django.conf import settings
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from eventstore.events import RecordedEvent
from eventstore.models import DATA_SUBJECT, PERSONAL_DATA_ERASED
from eventstore.projections.engine import Projection, upsert
from eventstore.projections.models import Snapshot
from eventstore.projections.snapshots import save_snapshot
from payments.domain import (
    AGGREGATE_TYPE,
    SNAPSHOT_SCHEMA_VERSION,
    ApprovalEventType,
    PaymentAggregate,
    PaymentStatus,
    parse_occurred_at,
)
from payments.models import Approval, PaymentSummary
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
        _forget_erased(events)
        events = [event for event in events if event.aggregate_type == AGGREGATE_TYPE]
        if not events:
            return
        self._fold(events, _stored_rows(list({event.stream_id for event in events})))

    def apply_appended(self, events: list[RecordedEvent]) -> bool:
        """Only onto a row that holds the payment up to the version before these events (locked, so
        the engine cannot write it meanwhile); otherwise the engine folds them in commit order. An
        erasure's row is refolded at once, so no copy of the erased fields outlives its transaction."""
        if events[0].aggregate_type == DATA_SUBJECT:
            _forget_erased(events)
            return True
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
        """Fold each payment's events onto its row in `rows` (by payment id) and write the changed rows."""
        by_payment: dict[str, list[RecordedEvent]] = {}
        for event in events:
            by_payment.setdefault(event.stream_id, []).append(event)
        changed = [row for payment_id, payment_events in by_payment.items()
                   if (row := _folded(rows.get(payment_id), payment_events)) is not None]
        upsert(PaymentSummary, changed, key="payment_id", fields=SUMMARY_FIELDS)

    def set_aside(self, event: RecordedEvent) -> None:
        if event.aggregate_type == AGGREGATE_TYPE:
            PaymentSummary.objects.filter(payment_id=event.stream_id).update(incomplete=True)


def _forget_erased(events: list[RecordedEvent]) -> None:
    """Refold from the events, which now read erased, the rows of payments whose personal data was
    erased (eventstore.erasure): the user id and description they copied go with the key."""
    for event in events:
        if event.event_type != PERSONAL_DATA_ERASED or event.data.get("aggregate_type") != AGGREGATE_TYPE:
            continue
        row = PaymentSummary.objects.select_for_update().filter(payment_id=event.data.get("stream_id")).first()
        if row is None:
            continue
        payment = load_payment(row.payment_id, version=row.version, use_snapshots=False)
        row.user_id, row.description = payment.user_id, payment.description
        row.save(update_fields=["user_id", "description"])


def _stored_rows(payment_ids: list[str]) -> dict[str, PaymentSummary]:
    """The rows of these payments, by id. One array parameter rather than an IN list of a batch's
    hundreds of ids, whose query text psycopg would parse anew for every batch."""
    matching = RawSQL("payment_id = ANY(%s)", [payment_ids], output_field=BooleanField())
    return {row.payment_id: row for row in PaymentSummary.objects.filter(matching)}


def _folded(row: PaymentSummary | None, events: list[RecordedEvent]) -> PaymentSummary | None:
    """`row` with a batch's events of its payment folded in, on one aggregate built from it; None when
    it holds every one of them already (handlers are idempotent)."""
    version = row.version if row is not None else 0
    payment, first, last, skipped = _aggregate(row, events[0].stream_id), None, None, False
    for event in events:
        if event.version <= version:
            continue
        payment.fold([(event.event_type, event.data)])
        skipped = skipped or event.version != version + 1  # an earlier event was set aside
        first, last, version = first or event, event, event.version
    if last is None:
        return None
    if row is None:
        row = PaymentSummary(payment_id=first.stream_id, created_at=first.recorded_at,
                             correlation_id=first.metadata.get("correlation_id", "")[:200])
    row.incomplete = row.incomplete or skipped
    row.organization_id, row.user_id = payment.organization_id, payment.user_id
    row.amount, row.refunded, row.currency = payment.amount, payment.refunded, payment.currency
    row.status, row.description = str(payment.status), payment.description
    row.occurred_at = payment.occurred_at or row.occurred_at
    row.version, row.last_position, row.updated_at = last.version, last.position, last.recorded_at
    return row


def _aggregate(row: PaymentSummary | None, payment_id: str) -> PaymentAggregate:
    if row is None:
        return PaymentAggregate(payment_id)
    return PaymentAggregate(
        payment_id=payment_id, version=row.version, status=PaymentStatus(row.status),
        organization_id=row.organization_id, user_id=row.user_id, amount=Decimal(row.amount),
        refunded=Decimal(row.refunded), currency=row.currency, description=row.description,
        occurred_at=row.occurred_at,
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


REQUESTED = {ApprovalEventType.REFUND_REQUESTED: "REFUND", ApprovalEventType.CANCEL_REQUESTED: "CANCEL"}
REJECTED = {ApprovalEventType.REFUND_REJECTED, ApprovalEventType.CANCEL_REJECTED}
EXPIRED = {ApprovalEventType.REFUND_EXPIRED, ApprovalEventType.CANCEL_EXPIRED}


class ApprovalProjection(Projection):
    """One row per four-eyes request: `...Requested` makes it, then the command's own event (which
    names the approval) approves it, `...Rejected` rejects it (or records the rules' refusal after
    approval) and `...Expired` expires it. Who asked and who decided come from the events' actors."""

    name = "approvals"
    models = (Approval,)

    def apply(self, events: list[RecordedEvent]) -> None:
        for event in events:
            if event.aggregate_type != AGGREGATE_TYPE or not isinstance(event.data, dict):
                continue
            if event.event_type in REQUESTED:
                _requested(event)
            elif event.data.get("approval_id"):
                _decided(event)

    def apply_appended(self, events: list[RecordedEvent]) -> bool:
        """With the append: an approval's events are all in its payment's stream, whose appends are
        serialized, and each handler skips what its row holds already."""
        self.apply(events)
        return True


def _requested(event: RecordedEvent) -> None:
    data, requester = event.data, _person(event.metadata.get("actor"), event.data.get("requested_by"))
    Approval.objects.get_or_create(approval_id=data["approval_id"], defaults=dict(
        payment_id=event.stream_id, organization_id=event.metadata.get("organization_id", ""),
        command_type=REQUESTED[event.event_type], amount=Decimal(data["amount"]), currency=data["currency"],
        description=data.get("description", "")[:500], rule=data.get("rule", "")[:200], state="pending",
        requested_by_id=requester["id"], requested_by_name=requester["name"], requested_at=event.recorded_at,
        expires_at=parse_occurred_at(data["expires_at"]) if data.get("expires_at") else None,
        workflow_id=event.metadata.get("workflow_id", ""), last_position=event.position,
    ))


def _decided(event: RecordedEvent) -> None:
    data = event.data
    if event.event_type in EXPIRED:
        state, decider = "expired", {"id": "", "name": ""}
    elif event.event_type in REJECTED:
        state = "refused" if data.get("refused_by_rules") else "rejected"
        decider = _person(None, data.get("approved_by") or data.get("rejected_by"))
    else:  # the command's own event: approved
        state, decider = "approved", _person(event.metadata.get("approved_by"), None)
    Approval.objects.filter(approval_id=data["approval_id"], last_position__lt=event.position).update(
        state=state, reason=str(data.get("reason", ""))[:500], decided_by_id=decider["id"],
        decided_by_name=decider["name"], decided_at=event.recorded_at, last_position=event.position)


def _person(actor, fallback) -> dict:
    source = actor if isinstance(actor, dict) and actor.get("id") else (fallback if isinstance(fallback, dict) else {})
    return {"id": str(source.get("id", ""))[:100], "name": str(source.get("name", ""))[:150]}


PROJECTIONS = [PaymentSummaryProjection(), PaymentSnapshotProjection(), ApprovalProjection()]
