"""Settlement files and the payments they settle, for the reconciliation tests and benchmark."""

import io
import time
from datetime import UTC, datetime

from eventstore.events import NewEvent
from eventstore.store import append_events
from payments.domain import AGGREGATE_TYPE, CommandType, PaymentAggregate, PaymentCommand

NATIVE_HEADER = "reference,kind,gross,fee,net,currency,booking_date,payout_id,provider_reference"


def record_payment(payment_id: str, organization_id: str, amount: str, currency: str, day: str, *,
                   refunds: tuple[str, ...] = (), cancel: bool = False) -> None:
    """Decide the payment's commands with the real domain and append its events to the real store."""
    payment = PaymentAggregate(payment_id)
    occurred = datetime.fromisoformat(f"{day}T10:00:00+00:00")
    commands = [PaymentCommand(CommandType.CREATE, payment_id, organization_id, "user-1", amount, currency,
                               occurred_at=occurred)]
    commands += [PaymentCommand(CommandType.REFUND, payment_id, organization_id, "user-1", refund, currency,
                                occurred_at=occurred.replace(hour=12 + number))
                 for number, refund in enumerate(refunds)]
    if cancel:
        commands.append(PaymentCommand(CommandType.CANCEL, payment_id, organization_id, "user-1",
                                       occurred_at=occurred.replace(hour=11)))
    version = 0
    for command in commands:
        events = payment.execute(command, latest_occurred_at=datetime.now(UTC))
        append_events(stream_id=payment_id, aggregate_type=AGGREGATE_TYPE, expected_version=version, events=[
            NewEvent(event.event_type, event.data, {"organization_id": organization_id}) for event in events])
        version += len(events)


def native_line(reference: str, kind: str, gross: str, fee: str, net: str, currency: str = "EUR",
                day: str = "2026-11-03", payout: str = "po_1") -> str:
    return f"{reference},{kind},{gross},{fee},{net},{currency},{day},{payout},"


def settlement_file(lines: list[str], header: str = NATIVE_HEADER) -> io.BytesIO:
    upload = io.BytesIO("\n".join([header, *lines, ""]).encode())
    upload.name = "settlement.csv"
    return upload


def wait_for_run(client, reconciliation_id: int, timeout: float = 60) -> dict:
    """The run once it completed or failed, read through the API."""
    deadline = time.monotonic() + timeout
    while True:
        run = client.get(f"/api/reconciliations/{reconciliation_id}/").json()
        if run["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return run
        time.sleep(0.1)
