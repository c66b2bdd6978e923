"""A reconciliation's period is cut in the organization's time zone, as its statements are: a payment
made at 00:30 in Paris on 1 November belongs to November there, though it is 31 October in UTC."""

from datetime import date

import pytest

from eventstore.events import NO_STREAM, NewEvent
from eventstore.store import append_events
from payments.models import Organization
from payments.reconciliation.models import Reconciliation
from payments.reconciliation.selectors import trail_by_payment
from tests.eventstore.helpers import payment_data

pytestmark = pytest.mark.django_db


def paid(payment_id: str, occurred_at: str) -> None:
    data = {**payment_data("PaymentProcessed", "100.00", payment_id), "organization_id": "org-paris",
            "occurred_at": occurred_at}
    append_events(stream_id=payment_id, aggregate_type="Payment", expected_version=NO_STREAM,
                  events=[NewEvent("PaymentProcessed", data, {"organization_id": "org-paris"})])


def test_the_period_follows_the_organizations_midnight():
    paris = Organization.objects.create(id="org-paris", name="Paris", time_zone="Europe/Paris")
    paid("payment-october-utc", "2026-10-31T23:30:00+00:00")  # 00:30 on 1 November in Paris
    paid("payment-october", "2026-10-31T22:30:00+00:00")  # 23:30 on 31 October in Paris
    paid("payment-november-end", "2026-11-30T22:59:00+00:00")  # 23:59 on 30 November in Paris
    paid("payment-december", "2026-11-30T23:00:00+00:00")  # midnight, 1 December in Paris
    november = Reconciliation.objects.create(organization=paris, file_name="f.csv", sha256="0" * 64, size=0,
                                             mapping="native", period_start=date(2026, 11, 1),
                                             period_end=date(2026, 11, 30))

    entries = {entry.payment_id: entry for entry in trail_by_payment(november)}

    assert set(entries) == {"payment-october-utc", "payment-november-end"}
    assert entries["payment-october-utc"].occurred_on == date(2026, 11, 1)
