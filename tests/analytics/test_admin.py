"""The analytics dashboard page."""

from datetime import timedelta

import pytest
from django.utils import timezone

from eventstore import subscriptions, webhooks
from eventstore.events import ANY
from eventstore.integrity import verify_event_chain
from eventstore.store import append_events
from tests.analytics_data import random_history
from tests.eventstore.helpers import payment_events

pytestmark = pytest.mark.django_db(transaction=True)


def test_dashboard_shows_statistics_charts_metrics_lag_and_verification(client, temporal, finance_user):
    start = timezone.now() - timedelta(days=6)
    random_history(payments=60, start=start, days=5, seed=6)
    verify_event_chain()
    client.force_login(finance_user)

    page = client.get("/admin/analytics/dashboard/", {
        "event_type": "PaymentProcessed", "start": (start - timedelta(days=1)).date().isoformat(),
        "end": timezone.now().date().isoformat(), "interval": "day", "time_zone": "Europe/Paris"})

    assert page.status_code == 200
    assert page.context["statistics"].count == 60
    assert page.content.count(b"<svg") >= 2 and b"<rect" in page.content and b"<polyline" in page.content
    assert b"payment_summary" in page.content and b"intact" in page.content
    assert b"PaymentEventSourcingWorkflow" in page.content


def test_dashboard_reports_bad_input_in_the_form(client, finance_user):
    client.force_login(finance_user)
    page = client.get("/admin/analytics/dashboard/", {"event_type": "PaymentProcessed", "start": "2026-01-10",
                                                      "end": "2026-01-01", "interval": "day", "time_zone": "UTC"})
    assert page.status_code == 200 and page.context["form"].errors


def test_dashboard_shows_each_subscriptions_lag_and_last_error(client, finance_user):
    endpoint = webhooks.register(url="http://127.0.0.1:9/hooks", organization_id="org-1")
    subscriptions.record_error(endpoint.subscription, "HTTP 500: down for maintenance")
    append_events(stream_id="payment-1", aggregate_type="Payment", events=payment_events(2), expected_version=ANY)
    client.force_login(finance_user)

    page = client.get("/admin/analytics/dashboard/")

    [row] = page.context["subscriptions"]
    assert row.name == endpoint.subscription.name and row.last_error.startswith("HTTP 500")
    assert b"Subscriptions and webhooks" in page.content and b"down for maintenance" in page.content
