"""The admin as finance staff use it: payments, a payment's history and state as of, timelines,
CSV exports; and what nobody may do."""

import csv
import io
import warnings

import pytest
from django.contrib.auth import get_user_model
from django.core.cache.backends.base import CacheKeyWarning

from eventstore.models import Event
from eventstore.projections.engine import apply_all_pending
from payments.models import PaymentSummary

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def finance(client, random_commands, finance_user):
    random_commands(120, payments=20)
    apply_all_pending()
    client.force_login(finance_user)
    return client


def a_refunded_payment():
    return Event.objects.filter(event_type="PaymentRefunded").values_list("stream_id", flat=True).first()


def test_payments_list_with_filters(finance):
    currency = PaymentSummary.objects.values_list("currency", flat=True).first()
    listing = finance.get("/admin/payments/paymentsummary/", {"currency__exact": currency})
    assert listing.status_code == 200
    rows = listing.context["cl"].result_list
    assert rows and all(row.currency == currency for row in rows)
    assert finance.get("/admin/payments/paymentsummary/", {"q": rows[0].payment_id}).context["cl"].result_count == 1


def test_payment_history_shows_each_state_and_change(finance):
    payment_id = a_refunded_payment()
    page = finance.get(f"/admin/payments/paymentsummary/{payment_id}/change/")
    assert page.status_code == 200
    history = page.context["history"]
    assert [entry.event.version for entry in history] == list(range(1, len(history) + 1))
    refund = next(entry for entry in history if entry.event.event_type == "PaymentRefunded")
    assert "refunded" in refund.changes and refund.state["status"] in ("PARTIALLY_REFUNDED", "REFUNDED")
    assert b"PaymentRefunded" in page.content and b"What changed" in page.content
    assert b'name="_save"' not in page.content


def test_a_payment_links_to_its_workflows_in_the_temporal_ui(finance, settings):
    settings.TEMPORAL_UI_URL, settings.TEMPORAL_NAMESPACE = "https://temporal.example/", "payments"
    payment_id = a_refunded_payment()

    page = finance.get(f"/admin/payments/paymentsummary/{payment_id}/change/")

    link = f"https://temporal.example/namespaces/payments/workflows?query=PaymentId%3D%22{payment_id}%22"
    assert link.encode() in page.content


def test_state_as_of_an_earlier_version(finance):
    payment_id = a_refunded_payment()
    page = finance.get(f"/admin/payments/paymentsummary/{payment_id}/change/", {"version": 1})
    assert page.context["as_of"]["state"].version == 1
    assert page.context["as_of"]["state"].state["status"] == "PROCESSED"
    bad = finance.get(f"/admin/payments/paymentsummary/{payment_id}/change/", {"version": "one"})
    assert bad.status_code == 200 and "not a version number" in bad.context["as_of"]["error"]


def test_timeline_page(finance):
    event = Event.objects.first()
    correlation = event.metadata["correlation_id"]
    page = finance.get(f"/admin/timeline/{correlation}/")
    assert page.status_code == 200
    assert len(page.context["events"]) == Event.objects.filter(metadata__correlation_id=correlation).count()
    assert finance.get("/admin/timeline/no-such-thing/").status_code == 404


def test_csv_export_streams_the_filtered_list(finance):
    response = finance.get("/admin/payments/paymentsummary/export.csv", {"status__exact": "CANCELLED"})
    assert response.status_code == 200 and response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    cancelled = sorted(PaymentSummary.objects.filter(status="CANCELLED").values_list("payment_id", flat=True))
    assert cancelled, "the history should hold cancelled payments"
    assert rows[0][0] == "payment_id" and sorted(row[0] for row in rows[1:]) == cancelled
    assert {row[6] for row in rows[1:]} == {"CANCELLED"}
    events = finance.get("/admin/eventstore/event/export.csv", {"event_type__exact": "PaymentRefunded"})
    lines = b"".join(events.streaming_content).decode().splitlines()
    assert len(lines) - 1 == Event.objects.filter(event_type="PaymentRefunded").count()


def test_finance_staff_cannot_change_events_and_others_see_nothing(finance, client):
    event = Event.objects.first()
    assert finance.get(f"/admin/eventstore/event/{event.position}/change/").status_code == 200
    assert finance.post(f"/admin/eventstore/event/{event.position}/change/", {"event_type": "X"}).status_code == 403
    assert finance.get("/admin/eventstore/event/add/").status_code == 403
    assert finance.get("/admin/auth/user/").status_code == 403

    plain_staff = get_user_model().objects.create_user("stan", password="pw", is_staff=True)
    client.force_login(plain_staff)
    assert client.get("/admin/payments/paymentsummary/").status_code == 403
    assert client.get("/admin/analytics/dashboard/").status_code == 403
    assert client.get("/admin/analytics/dashboard/operations/", {"part": "panel"}).status_code == 403
    assert client.get(f"/admin/timeline/{event.metadata['correlation_id']}/").status_code == 403
    assert client.get("/admin/payments/paymentsummary/export.csv").status_code == 403

    customer = get_user_model().objects.create_user("cust", password="pw")
    client.force_login(customer)
    assert client.get("/admin/").status_code == 302


def test_the_hot_paths_write_only_cache_keys_memcached_accepts(temporal, finance, api_client_for):
    """Django warns (CacheKeyWarning) of a key memcached would refuse: over 250 characters, spaces or
    control characters. Here the warning is an error, on the paths that read a payment's stream (the
    command's load step, the history API, the admin page), for a payment with the longest id."""
    from payments.models import PaymentSummary

    organization = PaymentSummary.objects.values_list("organization_id", flat=True).first()
    client = api_client_for("cora", organization)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheKeyWarning)
        created = client.post("/api/payments/commands/", {
            "type": "CREATE", "payment_id": "x" * 100, "organization_id": organization,
            "amount": "10.00", "currency": "EUR"}, format="json")
        payment_id = created.json()["payment_id"]
        refunded = client.post("/api/payments/commands/", {
            "type": "REFUND", "payment_id": "x" * 100, "organization_id": organization,
            "amount": "1.00", "currency": "EUR"}, format="json")
        history = client.get(f"/api/payments/{payment_id}/history/")
        page = finance.get(f"/admin/payments/paymentsummary/{payment_id}/change/")
        listing = finance.get("/admin/payments/paymentsummary/", {"currency__exact": "EUR"})

    assert len(payment_id) == 108 and created.status_code == 201 and refunded.status_code == 201
    assert len(history.json()["results"]) == 2 and page.status_code == 200 and listing.status_code == 200
