"""Analytics by business time (the default) or by recorded time: selectors, API, the Temporal
workflow and the dashboard count the same events on the axis asked for."""

from datetime import UTC, datetime

import pytest

from analytics.client import EventAnalyticsService
from analytics.selectors import EventQuery, InvalidQuery, event_statistics, event_trend
from tests.synthetic import SyntheticEvent, load_history

pytestmark = pytest.mark.django_db(transaction=True)

YEAR_2024 = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))
YEAR_2025 = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
def recorded_in_2025_occurred_in_2024():
    """Three payments that occurred in 2024 but were entered in 2025, and one of 2025 itself."""
    events = [
        ("payment-b1", "100.00", datetime(2024, 3, 4, 9, tzinfo=UTC), datetime(2025, 1, 3, tzinfo=UTC)),
        ("payment-b2", "50.00", datetime(2024, 3, 20, 9, tzinfo=UTC), datetime(2025, 1, 3, tzinfo=UTC)),
        ("payment-b3", "25.00", datetime(2024, 11, 30, 23, tzinfo=UTC), datetime(2025, 1, 4, tzinfo=UTC)),
        ("payment-b4", "10.00", datetime(2025, 2, 1, 9, tzinfo=UTC), datetime(2025, 2, 1, 9, 5, tzinfo=UTC)),
    ]
    load_history([SyntheticEvent(payment, "PaymentProcessed",
                                 {"payment_id": payment, "organization_id": "org-acme", "user_id": "alice",
                                  "amount": amount, "currency": "EUR", "occurred_at": occurred.isoformat()},
                                 recorded, {"organization_id": "org-acme", "user_id": "alice", "schema_version": 2})
                  for payment, amount, occurred, recorded in events])


def test_statistics_count_by_business_time_unless_asked_for_recorded_time(recorded_in_2025_occurred_in_2024):
    by_business = event_statistics(EventQuery("PaymentProcessed", *YEAR_2024))
    by_recorded = event_statistics(EventQuery("PaymentProcessed", *YEAR_2024, time="recorded"))
    recorded_2025 = event_statistics(EventQuery("PaymentProcessed", *YEAR_2025, time="recorded"))

    assert (by_business.count, by_business.currencies[0].total) == (3, 175)
    assert by_business.first_at == datetime(2024, 3, 4, 9, tzinfo=UTC)
    assert by_recorded.count == 0 and recorded_2025.count == 4
    with pytest.raises(InvalidQuery):
        event_statistics(EventQuery("PaymentProcessed", *YEAR_2024, time="valuta"))


def test_trends_bucket_by_business_month(recorded_in_2025_occurred_in_2024):
    trend = event_trend(EventQuery("PaymentProcessed", *YEAR_2024), interval="month")
    assert [bucket.count for bucket in trend.buckets] == [0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0]
    assert trend.buckets[2].totals == {"EUR": 150}


def test_the_api_switch(recorded_in_2025_occurred_in_2024, api_client_for):
    acme = api_client_for("alice", "org-acme")
    params = {"event_type": "PaymentProcessed", "from": "2024-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}
    assert acme.get("/api/analytics/statistics/", params).json()["count"] == 3
    assert acme.get("/api/analytics/statistics/", {**params, "time": "recorded"}).json()["count"] == 0
    months = acme.get("/api/analytics/trends/", {**params, "interval": "month", "time": "business"}).json()
    assert [bucket["count"] for bucket in months["buckets"]][2] == 2
    assert acme.get("/api/analytics/statistics/", {**params, "time": "valuta"}).status_code == 400


def test_the_analytics_workflow_takes_the_switch(recorded_in_2025_occurred_in_2024, temporal):
    service = EventAnalyticsService(temporal.client, temporal.task_queue)
    assert service.get_event_statistics("PaymentProcessed", *YEAR_2024).count == 3
    assert service.get_event_statistics("PaymentProcessed", *YEAR_2024, time="recorded").count == 0
    trend = service.get_event_trends("PaymentProcessed", *YEAR_2024, interval="month")
    assert [bucket.count for bucket in trend.buckets][10] == 1


def test_the_dashboard_is_fed_business_dates(recorded_in_2025_occurred_in_2024, admin_client):
    query = {"event_type": "PaymentProcessed", "start": "2024-01-01", "end": "2024-12-31", "interval": "month",
             "time_zone": "UTC"}
    assert admin_client.get("/admin/analytics/dashboard/", query).context["statistics"].count == 3
    recorded = admin_client.get("/admin/analytics/dashboard/", {**query, "time": "recorded"})
    assert recorded.context["statistics"].count == 0
