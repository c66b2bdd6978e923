"""GET /api/feed/: every event in commit-consistent order, an opaque cursor, long-polling."""

import threading
import time

import pytest
from django.db import connection

from eventstore.events import ANY, NewEvent
from eventstore.models import Event
from eventstore.store import append_events
from tests.concurrent_writers import run_writers
from tests.eventstore.helpers import payment_data
from tests.payments.schema_one import METADATA, READ_AS, write_version_one_payment

pytestmark = pytest.mark.django_db(transaction=True)


def append(stream_id: str, organization_id: str = "org-1") -> None:
    append_events(stream_id=stream_id, aggregate_type="Payment", expected_version=ANY, events=[
        NewEvent("PaymentProcessed", payment_data("PaymentProcessed", "5.00", stream_id), {"organization_id": organization_id}),
    ])


def feed(client, **params) -> dict:
    response = client.get("/api/feed/", {key: value for key, value in params.items() if value is not None})
    assert response.status_code == 200, response.content
    return response.json()


def test_a_tail_sees_every_committed_event_exactly_once(api_client_for):
    client = api_client_for("tailer", "org-1")
    seen, done = [], threading.Event()

    def tail():
        cursor = None
        try:
            while True:
                finishing = done.is_set()
                page = feed(client, after=cursor, limit=20, wait=0 if finishing else 1)
                seen.extend((event["event_id"], event["position"]) for event in page["results"])
                cursor = page["cursor"]
                if finishing and not page["results"]:
                    return
        finally:
            connection.close()

    tailer = threading.Thread(target=tail)
    tailer.start()
    run_writers()
    done.set()
    tailer.join(60)

    assert not tailer.is_alive()
    committed = list(Event.objects.order_by("transaction_id", "position").values_list("event_id", "position"))
    assert [position for _, position in seen] == [position for _, position in committed], "order or completeness"
    assert len({event_id for event_id, _ in seen}) == len(seen)
    assert not Event.objects.filter(stream_id="payment-abandoned").exists()
    slow = Event.objects.get(stream_id="payment-slow").position
    assert slow < max(position for _, position in seen), "the slow writer's position must come before later commits"


def test_the_same_cursor_gives_the_same_events_and_every_page_has_a_cursor(api_client_for):
    client = api_client_for("reader", "org-1")
    for index in range(5):
        append(f"payment-{index}")
    first = feed(client, limit=2)
    assert len(first["results"]) == 2 and first["cursor"]
    again = feed(client, after=first["cursor"], limit=10)
    assert again == feed(client, after=first["cursor"], limit=10)
    assert [event["version"] for event in again["results"]] == [1, 1, 1]
    assert {"event_id", "stream_id", "version", "position", "event_type", "data", "metadata"} <= set(again["results"][0])
    end = feed(client, after=again["cursor"])
    assert end["results"] == [] and end["cursor"] == again["cursor"]


def test_the_feed_shows_only_the_callers_organizations(api_client_for):
    append("payment-mine", "org-1")
    append("payment-theirs", "org-2")
    mine = feed(api_client_for("member", "org-1"))
    assert [event["stream_id"] for event in mine["results"]] == ["payment-mine"]
    stranger = feed(api_client_for("stranger", "org-3"))
    assert stranger["results"] == []
    everything = feed(api_client_for("operator", operator=True))
    assert {event["stream_id"] for event in everything["results"]} == {"payment-mine", "payment-theirs"}


def test_a_cursor_moves_past_other_organizations_events(api_client_for):
    client = api_client_for("member", "org-1")
    append("payment-theirs", "org-2")
    page = feed(client)
    assert page["results"] == []
    append("payment-mine", "org-1")
    assert [event["stream_id"] for event in feed(client, after=page["cursor"])["results"]] == ["payment-mine"]


def test_a_long_poll_answers_as_soon_as_an_event_commits(api_client_for, settings):
    settings.SUBSCRIPTION_POLL_SECONDS = 30  # so that only the commit's notification can wake it in time
    client = api_client_for("waiter", "org-1")
    cursor = feed(client)["cursor"]
    answers = []

    def wait_for_it():
        started = time.monotonic()
        answers.append((feed(client, after=cursor, wait=2), time.monotonic() - started))
        connection.close()

    waiter = threading.Thread(target=wait_for_it)
    waiter.start()
    time.sleep(0.3)
    append("payment-new")
    waiter.join(30)
    page, waited = answers[0]
    assert [event["stream_id"] for event in page["results"]] == ["payment-new"]
    assert waited < 1.5, "woken by the commit, not by the end of the wait"


def test_a_long_poll_with_nothing_new_ends_after_the_wait(api_client_for):
    client = api_client_for("waiter", "org-1")
    started = time.monotonic()
    page = feed(client, wait=1)
    assert page["results"] == [] and page["cursor"]
    assert 0.9 <= time.monotonic() - started < 10


@pytest.mark.parametrize("params", [
    {"after": "p12"}, {"after": "c1"}, {"after": "c1.2.3"}, {"after": "cz.1"}, {"limit": 0}, {"limit": 501},
    {"wait": -1}, {"wait": 10_000}, {"wait": "soon"},
])
def test_bad_parameters_are_refused(api_client_for, params):
    response = api_client_for("reader", "org-1").get("/api/feed/", params)
    assert response.status_code == 400
    assert response.json()


def test_the_feed_needs_authentication(client):
    assert client.get("/api/feed/").status_code in (401, 403)


def test_an_event_stored_under_an_older_schema_version_is_fed_upcast(api_client_for):
    """Consumers of the feed see every event in its newest shape, whatever shape it was stored in."""
    payment = write_version_one_payment()
    fed = feed(api_client_for("member", METADATA["organization_id"]))["results"]
    processed = next(event for event in fed if event["stream_id"] == payment and event["version"] == 1)
    assert processed["metadata"]["schema_version"] == 1
    assert processed["data"].get("occurred_at") == READ_AS
