"""Event search and timelines over HTTP: cursor pages, filters, organization scoping, bad input."""

from datetime import datetime, timedelta, timezone

import pytest

from tests.analytics_data import random_history

pytestmark = pytest.mark.django_db

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def history():
    return random_history(payments=80, start=START, days=5, seed=2)


def test_search_follows_cursors_to_the_end(history, api_client_for):
    client = api_client_for("olga", operator=True)
    seen, url = [], "/api/events/?event_type=PaymentProcessed&limit=15"
    while url:
        page = client.get(url).json()
        seen.extend(page["results"])
        url = page["next"]
    expected = [e for e in history if e.event_type == "PaymentProcessed"]
    assert len(seen) == len(expected) and len({e["event_id"] for e in seen}) == len(seen)
    positions = [e["position"] for e in seen]
    assert positions == sorted(positions)


def test_search_is_scoped_to_the_callers_organizations(history, tenants, api_client_for):
    carol = api_client_for("carol", "org-a")
    found = carol.get("/api/events/", {"limit": 500}).json()["results"]
    assert found and {e["metadata"]["organization_id"] for e in found} == {"org-a"}
    assert carol.get("/api/events/", {"organization_id": "org-b"}).json()["results"] == []
    assert tenants.acme.get("/api/events/").json()["results"] == []  # org-acme has no events here


def test_search_filters_by_range_and_currency(history, api_client_for):
    client = api_client_for("olga", operator=True)
    since, until = START + timedelta(days=1), START + timedelta(days=2)
    found = client.get("/api/events/", {"from": since.isoformat(), "to": until.isoformat(), "currency": "jpy",
                                        "limit": 500}).json()["results"]
    expected = [e for e in history if since <= e.recorded_at < until and e.data["currency"] == "JPY"]
    assert len(found) == len(expected)


@pytest.mark.parametrize("params, field", [
    ({"from": "2026-01-05T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "from"),
    ({"from": "yesterday"}, "from"),
    ({"cursor": "garbage!"}, "cursor"),
    ({"limit": 0}, "limit"),
    ({"limit": "many"}, "limit"),
])
def test_bad_search_parameters_are_400(params, field, api_client_for):
    response = api_client_for("olga", operator=True).get("/api/events/", params)
    assert response.status_code == 400 and field in response.json()["error"]["fields"]


def test_timeline_of_another_organization_is_404(history, api_client_for):
    correlation = history[0].metadata["correlation_id"]
    owner = history[0].metadata["organization_id"]
    insider, outsider = api_client_for("in", owner), api_client_for("out", "org-zzz")
    assert insider.get(f"/api/timelines/{correlation}/").status_code == 200
    assert outsider.get(f"/api/timelines/{correlation}/").status_code == 404
    assert insider.get("/api/timelines/no-such-correlation/").status_code == 404
