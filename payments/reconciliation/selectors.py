"""Reading reconciliations: the runs and findings a user may see, and both sides of the matching in
payment-id order, streamed from the database (server-side cursors), never loaded whole."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Iterator
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.db.models.fields.json import KT

from eventstore.models import Event
from eventstore.selectors import business_time
from payments.calendar import local_midnight, organization_calendar
from payments.domain import AGGREGATE_TYPE as PAYMENT
from payments.domain import EventType
from payments.reconciliation.matching import Line, TrailEntry
from payments.reconciliation.models import Finding, Reconciliation, SettlementLine

STREAMED_ROWS = 2000
TRAIL_KINDS = {EventType.PAYMENT_PROCESSED: "charge", EventType.PAYMENT_REFUNDED: "refund",
               EventType.PAYMENT_CANCELLED: "cancel"}


def reconciliations(organization_ids: list[str] | None) -> QuerySet:
    """The runs of the organizations given (None: every organization)."""
    runs = Reconciliation.objects.select_related("organization")
    return runs if organization_ids is None else runs.filter(organization_id__in=organization_ids)


def visible_reconciliation(reconciliation_id, organization_ids: list[str] | None) -> Reconciliation | None:
    return reconciliations(organization_ids).filter(pk=reconciliation_id).first()


def earlier_import(organization_id: str, sha256: str) -> Reconciliation | None:
    return Reconciliation.objects.filter(organization_id=organization_id, sha256=sha256).first()


def findings(reconciliation: Reconciliation, *, outcome: str | None = None, open: bool | None = None) -> QuerySet:
    """The run's findings in order; of one outcome, or only open (or only resolved) ones, if asked."""
    found = Finding.objects.filter(reconciliation=reconciliation, number__isnull=False).order_by("number")
    if outcome:
        found = found.filter(outcome=outcome)
    if open is not None:
        found = found.filter(resolved_at__isnull=open)
    return found


def finding(reconciliation: Reconciliation, number: int) -> Finding | None:
    return findings(reconciliation).filter(number=number).first()


def lines_by_reference(reconciliation_id: int) -> Iterator[Line]:
    """The file's lines sorted by reference (fee lines without one first), then line number."""
    rows = (SettlementLine.objects.filter(reconciliation_id=reconciliation_id).order_by("reference", "line_number")
            .values_list("line_number", "reference", "kind", "gross", "fee", "net", "currency"))
    for row in rows.iterator(chunk_size=STREAMED_ROWS):
        yield Line(*row)


def trail_by_payment(reconciliation: Reconciliation) -> Iterator[TrailEntry]:
    """The organization's payment events the file may show, sorted by payment id then version: those
    of every payment a line names, and every one that occurred in the period (days of the organization's
    time zone, as its statements cut them)."""
    zone = organization_calendar(reconciliation.organization_id).zone
    start, end = _day_start(reconciliation.period_start, zone), _day_after(reconciliation.period_end, zone)
    named = SettlementLine.objects.filter(reconciliation_id=reconciliation.pk).values("reference")
    rows = (
        Event.objects.filter(aggregate_type=PAYMENT, event_type__in=[str(kind) for kind in TRAIL_KINDS])
        .alias(organization=KT("metadata__organization_id"))
        .filter(organization=reconciliation.organization_id)
        .annotate(moment=business_time(), amount=KT("data__amount"), currency=KT("data__currency"))
        .filter(Q(stream_id__in=named) | Q(moment__gte=start, moment__lt=end))
        .order_by("stream_id", "version")
        .values_list("stream_id", "event_type", "event_id", "amount", "currency", "moment")
    )
    for payment_id, event_type, event_id, amount, currency, moment in rows.iterator(chunk_size=STREAMED_ROWS):
        yield TrailEntry(payment_id, TRAIL_KINDS[event_type], str(event_id), Decimal(amount), currency,
                         moment.astimezone(zone).date())


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return local_midnight(day, zone) if day > date.min else datetime.min.replace(tzinfo=UTC)


def _day_after(day: date, zone: ZoneInfo) -> datetime:
    return local_midnight(day + timedelta(days=1), zone) if day < date.max else datetime.max.replace(tzinfo=UTC)
