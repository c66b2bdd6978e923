"""Statistics, trends and workflow metrics over HTTP."""

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from analytics.selectors import EventQuery, event_statistics
from tests.analytics_data import random_history

pytestmark = pytest.mark.django_db

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
RANGE = {"from": START.isoformat(), "to": (START + timedelta(days=10)).isoformat()}


@pytest.fixture
def history():
    return random_history(payments=100, start=START, days=10, seed=4)


def test_statistics_are_scoped_and_exact(history, api_client_for):
    member = api_client_for("ann", "org-b")
    body = member.get("/api/analytics/statistics/", {"event_type": "PaymentProcessed", **RANGE}).json()
    expected = event_statistics(EventQuery("PaymentProcessed", START, START + timedelta(days=10), ("org-b",)))
    assert (body["count"], body["organizations"]) == (expected.count, 1)
    assert [(c["currency"], Decimal(c["total"])) for c in body["currencies"]] == [
        (c.currency, c.total) for c in expected.currencies]
    assert all(isinstance(c["total"], str) for c in body["currencies"])


def test_trends_include_empty_buckets(history, api_client_for):
    operator = api_client_for("olga", operator=True)
    body = operator.get("/api/analytics/trends/", {"event_type": "PaymentRefunded", "interval": "day",
                                                   "from": (START - timedelta(days=3)).isoformat(),
                                                   "to": RANGE["to"], "time_zone": "Europe/Paris"}).json()
    assert len(body["buckets"]) == 14 and body["buckets"][0]["count"] == 0 and body["buckets"][0]["totals"] == {}


@pytest.mark.parametrize("params, field", [
    ({"event_type": "PaymentExploded", **RANGE}, "event_type"),
    ({"event_type": "PaymentProcessed", "from": RANGE["to"], "to": RANGE["from"]}, "from"),
    ({"event_type": "PaymentProcessed"}, "from"),
    ({"event_type": "PaymentProcessed", "from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "to"),
])
def test_bad_statistics_queries_are_400(params, field, api_client_for):
    response = api_client_for("olga", operator=True).get("/api/analytics/statistics/", params)
    assert response.status_code == 400 and field in response.json()["error"]["fields"]


@pytest.mark.parametrize("params, field", [
    ({"interval": "fortnight"}, "interval"), ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"interval": "hour", "from": "2024-01-03T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "interval"),
])
def test_bad_trend_queries_are_400(params, field, api_client_for):
    query = {"event_type": "PaymentProcessed", **RANGE, **params}
    response = api_client_for("olga", operator=True).get("/api/analytics/trends/", query)
    assert response.status_code == 400 and field in response.json()["error"]["fields"]


@pytest.mark.django_db(transaction=True)
def test_workflow_metrics_for_operators_only(temporal, api_client_for):
    assert api_client_for("ann", "org-b").get("/api/metrics/workflows/").status_code == 403
    response = api_client_for("olga", operator=True).get("/api/metrics/workflows/", {"window_hours": 1})
    assert response.status_code == 200
    assert {row["workflow_type"] for row in response.json()} >= {"PaymentEventSourcingWorkflow"}


def test_schema_and_docs_are_served_offline(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/payments/commands/" in schema.content
    assert b"Idempotency-Key" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content.lower()
    # Every script, style and icon comes from this server (the page also holds a random CSRF token,
    # so a search for a word in it would fail by chance).
    sources = re.findall(rb'(?:src|href)="([^"]+)"', docs.content)
    assert sources and all(source.startswith(b"/static/") for source in sources), sources
