"""The analytics dashboard page, and its operations panel (a page of its own, which the dashboard
fetches once its figures show)."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from eventstore.delivery import subscriptions, webhooks
from eventstore.events import ANY
from eventstore.integrity.incremental import verify_new_events
from eventstore.integrity.verification import verify_event_chain
from eventstore.store import append_events
from eventstore.web import status
from tests.admin_users import finance_user as other_finance_user
from tests.analytics_data import random_history
from tests.eventstore.helpers import payment_events

pytestmark = pytest.mark.django_db(transaction=True)

OPERATIONS = "/admin/analytics/dashboard/operations/"


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
    assert f'data-src="{OPERATIONS}?part=panel"'.encode() in page.content and "deployment_checks" not in page.context
    panel = client.get(OPERATIONS, {"part": "panel"})
    assert b"payment_summary" in panel.content and b"intact" in panel.content
    assert b"PaymentEventSourcingWorkflow" in panel.content
    checks = {check.name: check for check in panel.context["deployment_checks"]}
    assert {"worker", "temporal", "projections", "verification", "signing", "published_heads"} <= set(checks)
    assert checks["temporal"].ok and b"Deployment status" in panel.content


def test_dashboard_reports_bad_input_in_the_form(client, finance_user):
    client.force_login(finance_user)
    page = client.get("/admin/analytics/dashboard/", {"event_type": "PaymentProcessed", "start": "2026-01-10",
                                                      "end": "2026-01-01", "interval": "day", "time_zone": "UTC"})
    assert page.status_code == 200 and page.context["form"].errors


def test_dashboard_tells_trust_and_freshness(client, finance_user):
    client.force_login(finance_user)
    fresh = client.get(OPERATIONS, {"part": "panel"}).content.decode()
    assert "Trust and freshness" in fresh and "No verification has run yet" not in fresh
    assert "verification runs on a schedule" in fresh and "Set-aside events" in fresh

    start = timezone.now() - timedelta(days=3)
    random_history(payments=40, start=start, days=2, seed=9)
    verify_event_chain()
    page = client.get("/admin/analytics/dashboard/")
    trust = client.get(OPERATIONS, {"part": "panel"}).content.decode().split('id="trust"')[1].split("</div>")[0]
    assert "intact" in trust and " ago)" in trust and " UTC" in trust
    assert "intact" in trust.split("Last full pass")[1].split("</tr>")[0]
    assert "none yet" in trust.split("Last incremental pass")[1].split("</tr>")[0]
    verify_new_events()
    trust = client.get(OPERATIONS, {"part": "panel"}).content.decode().split('id="trust"')[1].split("</div>")[0]
    assert "intact" in trust.split("Last incremental pass")[1].split("</tr>")[0]
    statistics = page.context["statistics"]
    row = statistics.currencies[0]
    decimals = {"JPY": 0, "KWD": 3}.get(row.currency, 2)
    assert f"{row.total:,.{decimals}f} {row.currency}" in page.content.decode()


def test_a_member_sees_the_figures_of_their_organizations_only(client, temporal):
    from eventstore.models import Event
    from tests.admin_users import finance_user

    start = timezone.now() - timedelta(days=3)
    events = random_history(payments=50, start=start, days=2, seed=11)
    organization = events[0].metadata["organization_id"]
    theirs = sum(1 for event in events if event.event_type == "PaymentProcessed"
                 and event.metadata["organization_id"] == organization)
    assert Event.objects.filter(event_type="PaymentProcessed").count() > theirs > 0
    client.force_login(finance_user("mara", organizations=[organization]))

    page = client.get("/admin/analytics/dashboard/")
    assert page.context["statistics"].count == theirs and page.context["statistics"].organizations == 1
    panel = client.get(OPERATIONS, {"part": "panel"})
    assert "metrics" not in panel.context and b"PaymentEventSourcingWorkflow" not in panel.content
    assert panel.context["deployment_checks"] == [] and b"Deployment status" not in panel.content


def test_dashboard_shows_each_subscriptions_lag_and_last_error(client, finance_user):
    endpoint = webhooks.register(url="http://127.0.0.1:9/hooks", organization_id="org-1")
    subscriptions.record_error(endpoint.subscription, "HTTP 500: down for maintenance")
    append_events(stream_id="payment-1", aggregate_type="Payment", events=payment_events(2), expected_version=ANY)
    client.force_login(finance_user)

    page = client.get(OPERATIONS, {"part": "panel"})

    [row] = page.context["subscriptions"]
    assert row.name == endpoint.subscription.name and row.last_error.startswith("HTTP 500")
    assert b"Subscriptions and webhooks" in page.content and b"down for maintenance" in page.content
    client.force_login(other_finance_user("olga", organizations=["org-2"]))
    assert client.get(OPERATIONS, {"part": "panel"}).context["subscriptions"] == []


def test_the_operations_panel_is_fetched_by_the_dashboard_and_is_a_page_of_its_own(client, finance_user):
    client.force_login(finance_user)
    dashboard = client.get("/admin/analytics/dashboard/").content.decode()
    page = client.get(OPERATIONS).content.decode()
    panel = client.get(OPERATIONS, {"part": "panel"}).content.decode()

    assert f'<noscript><p><a href="{OPERATIONS}">' in dashboard and 'id="trust"' not in dashboard
    assert 'id="trust"' in page and 'class="breadcrumbs"' in page and "Subscriptions and webhooks" in page
    assert 'id="trust"' in panel and "<html" not in panel and "Subscriptions and webhooks" in panel


def test_a_temporal_that_is_down_is_a_message_in_the_panel_kept_for_a_while(client, finance_user, settings):
    settings.TEMPORAL_ADDRESS = "127.0.0.1:1"
    client.force_login(finance_user)

    panel = client.get(OPERATIONS, {"part": "panel"})

    assert panel.status_code == 200
    checks = {check.name: check for check in panel.context["deployment_checks"]}
    assert checks["temporal"].problem.startswith("Temporal is unreachable at 127.0.0.1:1")
    assert panel.context["metrics_error"].startswith("Temporal is unreachable")
    assert b"Temporal is unreachable" in panel.content
    assert cache.get(status.temporal_cache_key()) == (checks["temporal"], checks["worker"])  # the next panels' answer
    cache.clear()
    settings.DASHBOARD_TEMPORAL_CACHE_SECONDS = 0
    assert client.get(OPERATIONS, {"part": "panel"}).status_code == 200
    assert cache.get(status.temporal_cache_key()) is None


def test_the_dashboard_form_shows_what_was_asked_while_its_rendering_is_kept(client, finance_user):
    client.force_login(finance_user)
    asked = {"event_type": "PaymentRefunded", "start": "2026-01-01", "end": "2026-01-31", "interval": "week",
             "time_zone": "UTC"}
    for _ in range(2):
        page = client.get("/admin/analytics/dashboard/", asked).content.decode()
        assert '<option value="PaymentRefunded" selected>' in page and '<option value="week" selected>' in page
    assert '<option value="day" selected>' in client.get("/admin/analytics/dashboard/",
                                                         {**asked, "interval": "day"}).content.decode()
    backwards = client.get("/admin/analytics/dashboard/", {**asked, "end": "2025-12-01"}).content.decode()
    assert 'class="errorlist nonfield"' in backwards
