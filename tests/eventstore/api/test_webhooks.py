"""Webhook endpoints through the API and the admin, per organization."""

import time

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from eventstore.delivery.models import Subscription, WebhookDelivery, WebhookEndpoint
from eventstore.events import ANY, NewEvent
from eventstore.store import append_events
from eventstore.temporal.workflows import delivery_workflow_id
from tests.eventstore.helpers import payment_data
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver(temporal):
    made = Receiver()
    yield made
    made.close()
    for endpoint_id in WebhookEndpoint.objects.values_list("pk", flat=True):
        try:
            temporal.run(temporal.client.get_workflow_handle(delivery_workflow_id(endpoint_id)).terminate())
        except Exception:  # already ended
            pass


def append(stream_id: str, organization_id: str = "org-1"):
    return append_events(stream_id=stream_id, aggregate_type="Payment", expected_version=ANY, events=[
        NewEvent("PaymentProcessed", payment_data("PaymentProcessed", "5.00", stream_id), {"organization_id": organization_id}),
    ]).events[0]


def logged(endpoint, timeout: float = 30) -> None:
    """Wait for the delivery log: it is written right after the receiver answered."""
    deadline = time.monotonic() + timeout
    while not WebhookDelivery.objects.filter(endpoint=endpoint).exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def register(client, receiver, **body):
    return client.post("/api/webhooks/", {"url": receiver.url, **body}, format="json")


def test_a_member_registers_an_endpoint_for_its_organization_and_it_receives_events(api_client_for, receiver):
    client = api_client_for("member", "org-1")
    response = register(client, receiver, organization_id="org-1", event_types=["PaymentProcessed"])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_") and body["organization_id"] == "org-1"
    receiver.secret = body["secret"]
    event = append("payment-1")
    append("payment-2", "org-2")
    received = receiver.wait_for({str(event.event_id)}, timeout=60)
    assert [item.event_id for item in received] == [str(event.event_id)]
    assert received[0].signature_valid

    logged(WebhookEndpoint.objects.get(pk=body["id"]))
    deliveries = client.get(f"/api/webhooks/{body['id']}/deliveries/").json()["results"]
    assert deliveries[0]["status_code"] == 204 and deliveries[0]["webhook_id"] == received[0].webhook_id
    assert [each["id"] for each in client.get("/api/webhooks/").json()] == [body["id"]]


def test_organizations_and_addresses_are_checked(api_client_for, receiver, settings):
    member = api_client_for("member", "org-1")
    assert register(member, receiver, organization_id="org-2").status_code == 403
    assert register(member, receiver).status_code == 403, "all organizations: operators only"
    for url in ("ftp://example.com/x", "https://999.1.1.1/x", "not a url"):
        assert member.post("/api/webhooks/", {"url": url, "organization_id": "org-1"}, format="json").status_code == 400
    assert register(api_client_for("operator", operator=True), receiver).status_code == 201
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    for url in (receiver.url, "https://127.0.0.1:8443/hooks", "https://[fe80::1]/hooks"):
        refused = member.post("/api/webhooks/", {"url": url, "organization_id": "org-1"}, format="json")
        assert refused.status_code == 400 and "url" in refused.json()["error"]["fields"]
    assert Subscription.objects.count() == 1


def test_another_organizations_endpoint_is_not_found(api_client_for, receiver):
    owner = api_client_for("owner", "org-1")
    endpoint = register(owner, receiver, organization_id="org-1").json()
    stranger = api_client_for("stranger", "org-2")
    assert stranger.get("/api/webhooks/").json() == []
    for path in ("", "deliveries/"):
        assert stranger.get(f"/api/webhooks/{endpoint['id']}/{path}").status_code == 404
    for path in ("pause/", "resume/", "replay/"):
        assert stranger.post(f"/api/webhooks/{endpoint['id']}/{path}").status_code == 404
    assert stranger.delete(f"/api/webhooks/{endpoint['id']}/").status_code == 404
    assert owner.delete(f"/api/webhooks/{endpoint['id']}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_pause_resume_and_replay_through_the_api(api_client_for, receiver):
    client = api_client_for("member", "org-1")
    endpoint = register(client, receiver, organization_id="org-1").json()
    receiver.secret = endpoint["secret"]
    first = append("payment-1")
    receiver.wait_for({str(first.event_id)}, timeout=60)
    assert client.post(f"/api/webhooks/{endpoint['id']}/pause/").json()["paused"] is True
    assert client.post(f"/api/webhooks/{endpoint['id']}/resume/").json()["paused"] is False
    for bad in ({"since": "yesterday"}, {"after": "p12"}):
        assert client.post(f"/api/webhooks/{endpoint['id']}/replay/", bad, format="json").status_code == 400
    before = len(receiver.snapshot())
    assert client.post(f"/api/webhooks/{endpoint['id']}/replay/", {}, format="json").status_code == 200
    again = receiver.wait_for({str(first.event_id)}, timeout=60, since=before)
    assert again[before].event_id == str(first.event_id) and again[before].webhook_id == again[0].webhook_id


def test_an_operator_adds_an_endpoint_in_the_admin_and_sees_its_deliveries(client, receiver):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    response = client.post(reverse("admin:eventstore_webhookendpoint_add"), {
        "url": receiver.url, "organization_id": "org-1", "event_types": "PaymentProcessed", "description": "ledger sync",
    })
    assert response.status_code == 302, response.content
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.subscription.event_types == ["PaymentProcessed"] and endpoint.created_by == "root"
    receiver.secret = endpoint.secret
    event = append("payment-1")
    receiver.wait_for({str(event.event_id)}, timeout=60)
    logged(endpoint)

    page = client.get(reverse("admin:eventstore_webhookendpoint_change", args=[endpoint.pk])).content.decode()
    assert "PaymentProcessed" in page and "204" in page and endpoint.secret in page
    listing = client.get(reverse("admin:eventstore_webhookendpoint_changelist")).content.decode()
    assert receiver.url in listing
    log = client.get(reverse("admin:eventstore_webhookdelivery_changelist")).content.decode()
    assert str(event.position) in log

    client.post(reverse("admin:eventstore_webhookendpoint_changelist"),
                {"action": "pause", "_selected_action": [endpoint.pk], "replay_from": ""})
    endpoint.subscription.refresh_from_db()
    assert endpoint.subscription.paused
    refused = client.post(reverse("admin:eventstore_webhookendpoint_changelist"),
                          {"action": "replay", "_selected_action": [endpoint.pk], "replay_from": "soon"}, follow=True)
    assert "neither a feed cursor nor an ISO 8601 time" in refused.content.decode()
