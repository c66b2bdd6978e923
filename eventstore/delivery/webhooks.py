"""Webhooks: each event a subscription matches, POSTed in order to its endpoint and signed as the
Standard Webhooks specification says (https://www.standardwebhooks.com), so receivers can verify
and de-duplicate.

Every request carries `webhook-id` (the same for an event and an endpoint on every attempt, so a
repeat after a crash or a replay is recognisably the same message), `webhook-timestamp` (the
attempt's Unix time) and `webhook-signature` ("v1," and the base64 HMAC-SHA256, keyed with the
endpoint's secret, of "<id>.<timestamp>.<body>"). The checkpoint moves only past events answered
with a 2xx; the first failure stops the batch, and the caller (a Temporal activity) retries later.

Endpoints on loopback, private, link-local or otherwise non-public addresses are refused, the host
being resolved (at registration and before each batch), unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES is
set, which also allows plain http.
"""

import base64
import ipaddress
import json
import secrets
import socket
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from eventstore.delivery import subscriptions
from eventstore.delivery.models import Subscription, WebhookDelivery, WebhookEndpoint
from eventstore.errors import EventStoreError
from eventstore.events import Checkpoint, RecordedEvent

WEBHOOK_ID_NAMESPACE = uuid.UUID("6f1c2a52-1c43-4d59-9a57-2b8e0c1f6a10")


class RefusedEndpoint(EventStoreError):
    """The URL may not receive webhooks (scheme, or an address that is not public)."""


class DeliveryFailed(EventStoreError):
    """The endpoint did not answer an event with a 2xx: it is tried again later, from that event."""


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def check_destination(url: str) -> None:
    """Raise RefusedEndpoint unless `url` may receive webhooks."""
    parts = urlsplit(url)
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise RefusedEndpoint("A webhook endpoint must be an https:// URL.")
    if not parts.hostname:
        raise RefusedEndpoint("A webhook endpoint needs a host.")
    if allow_private:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)}
    except (socket.gaierror, UnicodeError, ValueError):
        raise RefusedEndpoint(f"The host {parts.hostname} does not resolve.") from None
    for address in addresses:
        if not ipaddress.ip_address(address.split("%")[0]).is_global:
            raise RefusedEndpoint(f"{parts.hostname} resolves to {address}, which is not a public address.")


def register(*, url: str, organization_id: str = "", event_types: list[str] = (), description: str = "",
             created_by: str = "") -> WebhookEndpoint:
    """A new endpoint and its subscription, from the start of the store; delivery starts once the
    caller starts its workflow (`eventstore.temporal.client.start_delivery`)."""
    check_destination(url)
    with transaction.atomic():
        return WebhookEndpoint.objects.create(
            subscription=new_subscription(organization_id=organization_id, event_types=event_types), url=url,
            secret=new_secret(), description=description, created_by=created_by)


def new_subscription(*, organization_id: str, event_types) -> Subscription:
    return Subscription.objects.create(name=f"webhook-{uuid.uuid4().hex[:12]}", organization_id=organization_id,
                                       event_types=sorted(set(event_types)))


def webhook_id(endpoint: WebhookEndpoint, event: RecordedEvent) -> str:
    return "msg_" + uuid.uuid5(WEBHOOK_ID_NAMESPACE, f"{endpoint.pk}:{event.event_id}").hex


def body(event: RecordedEvent) -> str:
    """The payload: the Standard Webhooks envelope around the whole event."""
    return json.dumps({
        "type": event.event_type,
        "timestamp": event.recorded_at.isoformat(),
        "data": {
            "event_id": str(event.event_id), "stream_id": event.stream_id, "aggregate_type": event.aggregate_type,
            "version": event.version, "position": event.position, "event_type": event.event_type,
            "data": event.data, "metadata": event.metadata, "recorded_at": event.recorded_at.isoformat(),
            "hash": event.hash, "prev_hash": event.prev_hash,
        },
    }, separators=(",", ":"), sort_keys=True)


def signed_headers(secret: str, message_id: str, payload: str) -> dict[str, str]:
    now = timezone.now()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, payload),
        "content-type": "application/json",
    }


def http_client(timeout: float) -> httpx.Client:
    return httpx.Client(timeout=timeout, follow_redirects=False, headers={"user-agent": "payments-audit-webhooks"})


def post(client: httpx.Client, endpoint: WebhookEndpoint, event: RecordedEvent) -> WebhookDelivery:
    """One attempt, timed, as a delivery log row (not saved)."""
    message_id, payload = webhook_id(endpoint, event), body(event)
    attempt = WebhookDelivery(endpoint=endpoint, webhook_id=message_id, event_id=event.event_id, position=event.position,
                              event_type=event.event_type, attempted_at=timezone.now())
    started = time.perf_counter()
    try:
        response = client.post(endpoint.url, content=payload, headers=signed_headers(endpoint.secret, message_id, payload))
        attempt.status_code = response.status_code
        if not attempt.succeeded:
            attempt.error = f"HTTP {response.status_code}: {response.text[:200]}"
    except httpx.HTTPError as error:
        attempt.error = f"{type(error).__name__}: {error}"[:2000] or type(error).__name__
    attempt.latency_ms = (time.perf_counter() - started) * 1000
    return attempt


@dataclass
class Delivered:
    count: int = 0
    more: bool = False  # a full page: read again at once


def deliver_pending(endpoint: WebhookEndpoint, client: httpx.Client, *, limit: int,
                    on_attempt=lambda attempt: None) -> Delivered:
    """POST the next page of the endpoint's events in order; raise DeliveryFailed at the first that
    fails, after moving the checkpoint past those that succeeded. Nothing while paused."""
    subscription = Subscription.objects.get(pk=endpoint.subscription_id)
    if subscription.paused:
        return Delivered()
    check_destination(endpoint.url)  # again: what a name resolves to can change
    read_from = subscriptions.checkpoint_of(subscription)
    page = subscriptions.next_page(subscription, limit=limit)
    attempts, delivered = [], []
    try:
        for event in page.events:
            attempts.append(attempt := post(client, endpoint, event))
            on_attempt(attempt)
            if not attempt.succeeded:
                subscriptions.record_error(subscription, attempt.error)
                raise DeliveryFailed(f"{endpoint.url} refused {event.event_type} at position {event.position}: {attempt.error}")
            delivered.append(event)
    finally:
        WebhookDelivery.objects.bulk_create(attempts)
        to = page.checkpoint if len(delivered) == len(page.events) else Checkpoint.of(delivered[-1]) if delivered else read_from
        if to != read_from:
            subscriptions.advance(subscription, read_from=read_from, to=to, delivered=delivered)
    return Delivered(count=len(delivered), more=len(page.events) == limit)
