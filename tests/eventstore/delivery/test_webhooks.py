"""Webhooks: every event of a subscription POSTed in commit order, signed (Standard Webhooks),
retried with backoff, delivered by Temporal workflows that hold nobody else up."""

import os
import signal
import time
import uuid

import pytest
from django.db import connection

from eventstore.delivery import subscriptions, webhooks
from eventstore.delivery.models import Subscription, WebhookDelivery
from eventstore.events import ANY, NewEvent
from eventstore.models import Event
from eventstore.store import append_events
from eventstore.temporal import client as delivery_client
from eventstore.temporal.workflows import delivery_workflow_id
from tests.concurrent_writers import run_writers
from tests.eventstore.helpers import payment_data
from tests.payments.schema_one import METADATA, READ_AS, write_version_one_payment
from tests.processes import command_env, manage
from tests.waiting import wait_for
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receivers():
    made = []

    def receiver(**options) -> Receiver:
        made.append(Receiver(**options))
        return made[-1]

    yield receiver
    for each in made:
        each.close()


@pytest.fixture
def endpoints(temporal):
    """Registers endpoints and starts their delivery workflows; stops the workflows afterwards."""
    started = []

    def endpoint(receiver: Receiver, **options):
        registered = webhooks.register(url=receiver.url, **options)
        receiver.secret = registered.secret
        started.append(registered.pk)
        assert delivery_client.ensure_delivery(registered)
        return registered

    yield endpoint
    for pk in started:
        try:
            temporal.run(temporal.client.get_workflow_handle(delivery_workflow_id(pk)).terminate())
        except Exception:  # already ended
            pass


def append(stream_id: str, organization_id: str = "org-1", count: int = 1) -> list[str]:
    result = append_events(stream_id=stream_id, aggregate_type="Payment", expected_version=ANY, events=[
        NewEvent("PaymentProcessed" if index == 0 else "PaymentRefunded",
                 payment_data("PaymentProcessed" if index == 0 else "PaymentRefunded", "1.00", stream_id),
                 {"organization_id": organization_id})
        for index in range(count)
    ])
    return [str(event.event_id) for event in result.events]


def committed(organization_id: str = "org-1") -> list[str]:
    return [str(event_id) for event_id in Event.objects.filter(metadata__organization_id=organization_id)
            .order_by("transaction_id", "position").values_list("event_id", flat=True)]


def in_order_once(received) -> list[str]:
    """The event ids received, each at its first arrival."""
    seen, order = set(), []
    for item in received:
        if item.event_id not in seen:
            seen.add(item.event_id)
            order.append(item.event_id)
    return order


def test_every_event_is_delivered_in_commit_order_and_signed(receivers, endpoints):
    receiver = receivers()
    endpoint = endpoints(receiver, organization_id="org-1")
    run_writers()
    append("payment-elsewhere", "org-2")
    expected = committed()

    received = receiver.wait_for(set(expected), timeout=120)

    assert in_order_once(received) == expected
    assert all(item.signature_valid for item in received)
    assert all(item.stream_id != "payment-elsewhere" for item in received)
    ids = {}
    for item in received:
        assert ids.setdefault(item.event_id, item.webhook_id) == item.webhook_id, "a repeat has the same webhook-id"
    assert len(set(ids.values())) == len(expected)
    # the receiver answers before the workflow records the round it belongs to
    assert wait_for(lambda: Subscription.objects.get(pk=endpoint.subscription_id).events_delivered >= len(expected))
    assert WebhookDelivery.objects.filter(endpoint=endpoint, status_code=204).count() >= len(expected)


def test_event_type_filters_select_what_is_delivered(receivers, endpoints):
    receiver = receivers()
    endpoints(receiver, event_types=["PaymentRefunded"])
    append("payment-1", count=3)
    refunds = [str(pk) for pk in Event.objects.filter(event_type="PaymentRefunded").order_by("position")
               .values_list("event_id", flat=True)]
    received = receiver.wait_for(set(refunds), timeout=60)
    assert in_order_once(received) == refunds


def test_an_event_stored_under_an_older_schema_version_is_delivered_upcast(receivers, endpoints):
    """Receivers get every event in its newest shape, whatever shape it was stored in."""
    payment = write_version_one_payment()
    receiver = receivers()
    endpoints(receiver, organization_id=METADATA["organization_id"])
    processed = str(Event.objects.get(stream_id=payment, version=1).event_id)
    received = receiver.wait_for({processed}, timeout=60)
    delivered = [item for item in received if item.event_id == processed]
    assert delivered, "the event was not delivered"
    assert delivered[0].data.get("occurred_at") == READ_AS


def test_an_outage_loses_nothing_and_holds_up_no_other_endpoint(receivers, endpoints, settings):
    settings.WEBHOOK_RETRY_INITIAL_SECONDS = 0.5
    settings.WEBHOOK_RETRY_MAX_SECONDS = 2
    down, healthy = receivers(), receivers()
    down.failing = True
    failing_endpoint = endpoints(down)
    endpoints(healthy)

    outage_ends = time.monotonic() + 12
    while time.monotonic() < outage_ends:
        [event_id] = append(f"payment-{uuid.uuid4().hex[:8]}")
        arrived = healthy.wait_for({event_id}, timeout=5)
        assert event_id in {item.event_id for item in arrived}, "the healthy endpoint waited for the failing one"
        time.sleep(0.5)
    assert down.received == [] and down.refused >= 2, "the failing endpoint was retried"
    subscription = Subscription.objects.get(pk=failing_endpoint.subscription_id)
    assert "HTTP 500" in subscription.last_error
    assert WebhookDelivery.objects.filter(endpoint=failing_endpoint, status_code=500).exists()

    down.failing = False
    expected = committed()
    received = down.wait_for(set(expected), timeout=60)
    assert in_order_once(received) == expected
    assert all(item.signature_valid for item in received)
    # The receiver has the events before the delivery round that sent them records its success.
    assert wait_for(lambda: Subscription.objects.get(pk=subscription.pk).last_error == "", timeout=30)


def test_pause_resume_and_replay(receivers, endpoints):
    receiver = receivers()
    endpoint = endpoints(receiver)
    first = append("payment-1") + append("payment-1b")
    receiver.wait_for(set(first), timeout=60)
    subscription = Subscription.objects.get(pk=endpoint.subscription_id)

    subscriptions.set_paused(subscription, True)
    time.sleep(1.5)  # a round that had read the flag before it changed ends
    paused_count = len(receiver.snapshot())
    later = append("payment-2")
    time.sleep(2)
    assert later[0] not in {item.event_id for item in receiver.snapshot()[paused_count:]}

    subscriptions.set_paused(subscription, False)
    receiver.wait_for(set(later), timeout=60)

    before = len(receiver.snapshot())
    subscriptions.rewind(subscription, to=subscriptions.place_before(Event.objects.get(event_id=first[1]).recorded_at))
    replayed = receiver.wait_for(set(first[1:]) | set(later), timeout=60, since=before)
    assert [item.event_id for item in replayed[before:]][:2] == [first[1], later[0]]


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "https://10.1.2.3/x", "https://169.254.169.254/latest",
                                 "https://[::1]/x", "ftp://example.com/x", "https://localhost/x"])
def test_endpoints_on_private_addresses_are_refused_unless_allowed(settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(webhooks.RefusedEndpoint):
        webhooks.register(url=url)
    assert not Subscription.objects.exists()


def test_a_worker_killed_mid_delivery_repeats_events_with_the_same_webhook_id(receivers, temporal, settings, tmp_path):
    queue = f"webhooks-{uuid.uuid4().hex[:8]}"
    settings.WEBHOOK_TASK_QUEUE = queue
    settings.WEBHOOK_TIMEOUT_SECONDS = 2  # a dead worker's delivery is taken over within 12 s
    for index in range(30):
        append(f"payment-{index}", count=5)
    expected = committed()
    env = command_env(TEMPORAL_ADDRESS=temporal.address, TEMPORAL_TASK_QUEUE=f"{queue}-main", WEBHOOK_TASK_QUEUE=queue,
                      WEBHOOK_ALLOW_PRIVATE_ADDRESSES="true")

    def start_worker(name: str):
        return manage("temporal_worker", "--no-catch-up", env=env, output=open(tmp_path / name, "w"))

    worker = start_worker("worker-1.log")
    receiver = receivers(delay=0.05)
    endpoint = webhooks.register(url=receiver.url)
    receiver.secret = endpoint.secret
    connection.close()
    try:
        assert delivery_client.ensure_delivery(endpoint)
        deadline = time.monotonic() + 60
        while len(receiver.snapshot()) < 30 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
        at_kill = len(receiver.snapshot())
        assert 30 <= at_kill < len(expected), "killed in the middle of the deliveries"
        worker = start_worker("worker-2.log")
        received = receiver.wait_for(set(expected), timeout=120)
    finally:
        worker.kill()
        worker.wait(10)
        temporal.run(temporal.client.get_workflow_handle(delivery_workflow_id(endpoint.pk)).terminate())

    assert in_order_once(received) == expected
    assert all(item.signature_valid for item in received)
    by_event = {}
    for item in received:
        by_event.setdefault(item.event_id, set()).add(item.webhook_id)
    assert all(len(ids) == 1 for ids in by_event.values()), "every repeat carries the first attempt's webhook-id"
    assert len(received) > len(expected), "what was delivered but not yet checkpointed at the kill came again"
