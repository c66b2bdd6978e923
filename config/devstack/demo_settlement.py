"""The demo's settlement file: what the payment provider would report for one organization's last
complete month (the demo organization with the most charges then), made from the demo payments' events, with four discrepancies planted for the
reconciliation to find (import it at /admin/payments/reconciliation/add/):

- a charge the provider left out (in the trail, not in the file),
- a line for a payment the trail has never seen (in the file, not in the trail),
- a charge settled for 10 more than was paid (amount mismatch),
- a line sent twice (duplicate).

Charges carry a 1.4 % fee, refunds none, and the month ends with the provider's own monthly fee.
"""

import csv
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.db.models.fields.json import KT

from eventstore.models import Event
from eventstore.selectors import business_time
from payments.domain import minor_units

HEADER = ["reference", "kind", "gross", "fee", "net", "currency", "booking_date", "payout_id", "provider_reference"]
FEE_RATE = Decimal("0.014")
UNKNOWN_PAYMENT = "payment-demo-not-ours-1"


def last_complete_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def settlement_lines(organization_id: str, first: date, last: date) -> list[list[str]]:
    """The provider's lines for the organization's charges (of payments not cancelled) and refunds
    that occurred from `first` to `last` (UTC days), in business-time order."""
    events = (Event.objects.filter(aggregate_type="Payment")
              .alias(organization=KT("metadata__organization_id")).annotate(day=business_time())
              .filter(organization=organization_id, day__gte=_midnight(first),
                      day__lt=_midnight(last + timedelta(days=1)))
              .order_by("day", "position"))
    cancelled = set(Event.objects.filter(event_type="PaymentCancelled").values_list("stream_id", flat=True))
    lines = []
    for event in events:
        if event.event_type == "PaymentProcessed" and event.stream_id not in cancelled:
            lines.append(_line(event, "charge", Decimal(event.data["amount"])))
        elif event.event_type == "PaymentRefunded":
            lines.append(_line(event, "refund", -Decimal(event.data["amount"])))
    return lines


def _line(event: Event, kind: str, gross: Decimal) -> list[str]:
    currency = event.data["currency"]
    unit = Decimal(1).scaleb(-minor_units(currency))
    fee = (gross * FEE_RATE).quantize(unit, ROUND_HALF_UP) if kind == "charge" else Decimal(0).quantize(unit)
    day = event.day.astimezone(UTC).date()
    return [event.stream_id, kind, str(gross.quantize(unit)), str(fee), str((gross - fee).quantize(unit)), currency,
            day.isoformat(), f"po_{day:%Y%m%d}", f"psp_{str(event.event_id)[:13]}"]


def plant_discrepancies(lines: list[list[str]], last: date) -> list[list[str]]:
    """The four discrepancies of the module's docstring, and the monthly fee. Neither the first nor
    the last charge goes missing: the file's booking dates make its period."""
    charges = [number for number, line in enumerate(lines) if line[1] == "charge"]
    if len(charges) < 4:
        return lines
    missing, mismatched, repeated = charges[1], charges[2], charges[-1]
    planted = [list(line) for number, line in enumerate(lines) if number != missing]
    for line in planted:
        if line[0] == lines[mismatched][0] and line[1] == "charge":
            gross, fee = Decimal(line[2]) + 10, Decimal(line[3])
            line[2], line[4] = str(gross), str(gross - fee)
    planted.append(list(lines[repeated]))
    planted.append([UNKNOWN_PAYMENT, "charge", "42.00", "0.84", "41.16", "EUR", last.isoformat(),
                    f"po_{last:%Y%m%d}", "psp_unknown"])
    planted.append(["", "fee", "0.00", "29.00", "-29.00", "EUR", last.isoformat(), f"po_{last:%Y%m%d}",
                    "monthly-fee"])
    return planted


def write_demo_settlement(directory: Path, today: date, organizations: list[str]) -> Path | None:
    """Write the file (named for the organization and month) unless there are no payments to settle."""
    first, last = last_complete_month(today)
    by_organization = {organization: settlement_lines(organization, first, last) for organization in organizations}
    organization = max(organizations, key=lambda each: sum(line[1] == "charge" for line in by_organization[each]))
    lines = by_organization[organization]
    if not lines:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"settlement-{organization}-{first:%Y-%m}.csv"
    with open(path, "w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(plant_discrepancies(lines, last))
    return path


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)

