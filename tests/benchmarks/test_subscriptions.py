"""Subscriptions: how soon an event reaches a webhook receiver, a feed reader and a projection-like
consumer woken by LISTEN/NOTIFY while payment commands run, beside a reader that polls every
POLL_SECONDS in the same run; and webhook delivery throughput to a receiver on loopback beside a
plain `read_all` scan posting the same events in the same batches from this process."""

import asyncio
import threading
import time
import uuid

import pytest
from django.conf import settings as django_settings
from django.db import connection
from rest_framework.test import APIClient

from analytics.percentiles import percentile
from eventstore import selectors, wakeups
from eventstore.delivery import webhooks
from eventstore.events import NO_STREAM, START, Checkpoint, NewEvent
from eventstore.models import Event
from eventstore.projections import tracking
from eventstore.store import append_events
from eventstore.temporal import client as delivery_client
from eventstore.temporal.workflows import delivery_workflow_id
from payments.client import submit_command
from payments.messages import PaymentCommandRequest
from tests.benchmarks.measure import Comparison, timed
from tests.eventstore.helpers import payment_data
from tests.webhook_receiver import Receiver

pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600), pytest.mark.django_db(transaction=True)]

FULL = dict(commands=400, concurrency=20, events=20_000)
QUICK = dict(commands=60, concurrency=10, events=2000)
POLL_SECONDS = 0.5
BATCH = 100
POLLING = f"reader polling every {POLL_SECONDS} s"


def test_lag_under_command_load_and_delivery_throughput(bench, size, temporal, api_client_for, settings):
    settings.WEBHOOK_BATCH_SIZE = BATCH
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the feed is read through the test client
    bench.describe_data(f"{size.commands} payment commands at concurrency {size.concurrency} through Temporal, "
                        f"followed by a webhook endpoint, a feed long-poll, a NOTIFY-woken consumer and a polling "
                        f"reader; then {size.events:,} events delivered to a receiver on loopback")
    lags(bench, size, temporal, api_client_for("bench-feed", operator=True))
    throughput(bench, size.events, temporal)


class Follower(threading.Thread):
    """Follows the store from its current end, noting when each event reached it. Between reads it
    waits for a notification (woken), sleeps (polling), or does neither: its read waits itself."""

    def __init__(self, read, *, woken: bool = False, polling: bool = False):
        super().__init__(daemon=True)
        self.read, self.woken, self.polling = read, woken, polling
        self.arrivals: dict[str, float] = {}
        self.stopping = threading.Event()

    def run(self):
        try:
            while not self.stopping.is_set():
                seen = wakeups.notifications_seen()
                for event_id in self.read():
                    self.arrivals.setdefault(event_id, time.time())
                if self.woken:
                    wakeups.wait_for_events(seen, POLL_SECONDS)
                elif self.polling:
                    time.sleep(POLL_SECONDS)
        finally:
            connection.close()


def store_reader(matching=selectors.EventFilter()):
    place = [_end()]

    def read():
        page = selectors.read_matching(place[0], matching, limit=1000)
        place[0] = page.checkpoint
        return [str(event.event_id) for event in page.events]

    return read


def _end() -> Checkpoint:
    last = Event.objects.order_by("-transaction_id", "-position").values_list("transaction_id", "position").first()
    return Checkpoint(*last) if last else START


def tracking_consumer():
    """A consumer that writes nothing but its tracking records, as a projection does."""
    name = f"bench-{uuid.uuid4().hex[:6]}"
    tracking.track(name, read_from=START, to=_end())
    seen: list[str] = []

    def read():
        seen.clear()
        tracking.consume(name, lambda events: seen.extend(str(event.event_id) for event in events), batch_size=1000)
        return list(seen)

    return read


def feed_page(client: APIClient, **query) -> dict:
    answer = client.get("/api/feed/", query)
    assert answer.status_code == 200, answer.content
    return answer.json()


def feed_reader(client: APIClient):
    cursor = [feed_page(client, limit=1)["cursor"]]
    while True:
        page = feed_page(client, after=cursor[0], limit=500)
        cursor[0] = page["cursor"]
        if not page["results"]:
            break
    wait = min(5, django_settings.FEED_MAX_WAIT_SECONDS)  # the test settings allow 2 s at most

    def read():
        page = feed_page(client, after=cursor[0], limit=500, wait=wait)
        cursor[0] = page["cursor"]
        return [event["event_id"] for event in page["results"]]

    return read


def lags(bench, size, temporal, feed_client) -> None:
    receiver = Receiver()
    endpoint = webhooks.register(url=receiver.url, event_types=["PaymentProcessed"])
    receiver.secret = endpoint.secret
    delivery_client.ensure_delivery(endpoint)
    followers = {
        "consumer woken by NOTIFY": Follower(tracking_consumer(), woken=True),
        "feed long-poll": Follower(feed_reader(feed_client)),
        POLLING: Follower(store_reader(), polling=True),
    }
    for follower in followers.values():
        follower.start()
    try:
        temporal.run(commands(temporal, size.commands, size.concurrency), timeout=None)
        created = list(Event.objects.filter(event_type="PaymentProcessed", metadata__organization_id="org-bench")
                       .values_list("event_id", "recorded_at"))
        wanted = {str(event_id) for event_id, _ in created}
        received = {item.event_id: item.at for item in receiver.wait_for(wanted, timeout=120)}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(wanted <= set(f.arrivals) for f in followers.values()):
            time.sleep(0.1)
    finally:
        for follower in followers.values():
            follower.stopping.set()
        for follower in followers.values():
            follower.join(30)
        receiver.close()
        temporal.run(temporal.client.get_workflow_handle(delivery_workflow_id(endpoint.pk)).terminate())

    def lag_ms(arrivals) -> list[float]:
        return [(arrivals[str(event_id)] - recorded_at.timestamp()) * 1000 for event_id, recorded_at in created]

    polling = lag_ms(followers[POLLING].arrivals)
    for name, arrivals in (("webhook receipt", received), ("feed long-poll", followers["feed long-poll"].arrivals),
                           ("consumer woken by NOTIFY", followers["consumer woken by NOTIFY"].arrivals)):
        measured = lag_ms(arrivals)
        for label, fraction in (("p50", 0.5), ("p99", 0.99)):
            bench.report(Comparison(f"lag to {name}: {label}", "ms", percentile(measured, fraction),
                                    percentile(polling, fraction), POLLING, higher_is_better=False))


async def commands(temporal, count: int, concurrency: int) -> None:
    slots = asyncio.Semaphore(concurrency)

    async def one():
        async with slots:
            request = PaymentCommandRequest("CREATE", f"payment-bench-{uuid.uuid4().hex}", "org-bench", "user-bench",
                                            "12.50", "EUR", "benchmark")
            result = await submit_command(temporal.client, request, task_queue=temporal.task_queue, timeout=120)
            assert result.success, result.message

    await asyncio.gather(*(one() for _ in range(count)))


def throughput(bench, events: int, temporal) -> None:
    run = uuid.uuid4().hex[:6]
    for start in range(0, events, 500):
        stream_id = f"payment-throughput-{run}-{start}"
        append_events(stream_id=stream_id, aggregate_type="Payment", expected_version=NO_STREAM, events=[
            NewEvent("PaymentProcessed" if index == 0 else "PaymentRefunded",
                     payment_data("PaymentProcessed" if index == 0 else "PaymentRefunded", "1.00", stream_id),
                     {"organization_id": f"org-{run}"})
            for index in range(min(500, events - start))])
    wanted = {str(pk) for pk in Event.objects.filter(metadata__organization_id=f"org-{run}").values_list("event_id", flat=True)}

    baseline_receiver = Receiver()
    plain = timed(lambda: post_plainly(baseline_receiver, run))
    assert {item.event_id for item in baseline_receiver.snapshot()} == wanted
    baseline_receiver.close()

    receiver = Receiver()
    endpoint = webhooks.register(url=receiver.url, organization_id=f"org-{run}")
    receiver.secret = endpoint.secret
    started = time.perf_counter()
    delivery_client.ensure_delivery(endpoint)
    received = receiver.wait_for(wanted, timeout=600)
    delivered = time.perf_counter() - started
    receiver.close()
    temporal.run(temporal.client.get_workflow_handle(delivery_workflow_id(endpoint.pk)).terminate())
    assert {item.event_id for item in received} == wanted
    bench.report(Comparison("webhook delivery to a loopback receiver", "events/s", events / delivered, events / plain,
                            "read_all scan posting the same batches", target=0.5))


def post_plainly(receiver: Receiver, run: str) -> None:
    """The baseline: page through the store and POST each event, signed, in order, from one client."""
    matching = selectors.EventFilter(organization_ids=(f"org-{run}",))
    secret = webhooks.new_secret()
    receiver.secret = secret
    place = START
    with webhooks.http_client(10) as client:
        while (page := selectors.read_matching(place, matching, limit=BATCH)).events:
            for event in page.events:
                payload = webhooks.body(event)
                response = client.post(receiver.url, content=payload,
                                       headers=webhooks.signed_headers(secret, f"msg_{event.event_id}", payload))
                assert response.status_code == 204
            place = page.checkpoint
