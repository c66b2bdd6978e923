"""Subscriptions: filtered reads in commit-consistent order, a checkpoint that only moves from where
its reader read, replay points, and what `subscription_status` reports."""

import io
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from eventstore import selectors
from eventstore.delivery import lag as subscription_lag
from eventstore.delivery import subscriptions, webhooks
from eventstore.delivery.models import Subscription
from eventstore.events import ANY, START, Checkpoint, NewEvent
from eventstore.models import Event
from eventstore.store import append_events
from tests.concurrent_writers import transaction_held_open
from tests.eventstore.helpers import payment_data

pytestmark = pytest.mark.django_db(transaction=True)


def append(stream_id: str, organization_id: str = "org-1", event_type: str = "PaymentProcessed"):
    return append_events(stream_id=stream_id, aggregate_type="Payment", expected_version=ANY, events=[
        NewEvent(event_type, payment_data(event_type, "2.00", stream_id), {"organization_id": organization_id}),
    ]).events[0]


def test_a_filtered_read_returns_matches_in_commit_order_and_moves_past_what_it_scanned():
    mine = [append("payment-1"), append("payment-2", "org-2"), append("payment-3")]
    page = selectors.read_matching(START, selectors.EventFilter(organization_ids=("org-1",)), limit=10)
    assert [event.position for event in page.events] == [mine[0].position, mine[2].position]
    assert page.checkpoint == Checkpoint.of(Event.objects.order_by("-position").first())

    append("payment-4", "org-2")
    nothing = selectors.read_matching(page.checkpoint, selectors.EventFilter(organization_ids=("org-1",)), limit=10)
    assert nothing.events == [] and nothing.checkpoint != page.checkpoint


def test_a_full_page_stops_at_its_last_event():
    events = [append(f"payment-{index}") for index in range(3)]
    page = selectors.read_matching(START, selectors.EventFilter(event_types=("PaymentProcessed",)), limit=2)
    assert page.checkpoint == Checkpoint.of(Event.objects.get(position=events[1].position))


def test_no_organization_matches_nothing_and_filters_combine():
    append("payment-1")
    assert selectors.read_matching(START, selectors.EventFilter(organization_ids=()), limit=10).events == []
    assert selectors.read_matching(START, selectors.EventFilter(aggregate_types=("Invoice",)), limit=10).events == []
    assert len(selectors.read_matching(START, selectors.EventFilter(aggregate_types=("Payment",)), limit=10).events) == 1


def test_a_filtered_read_waits_for_an_open_transaction():
    with transaction_held_open(lambda: append("payment-held")):
        append("payment-later")
        page = selectors.read_matching(START, selectors.EventFilter(), limit=10)
    assert page.events == [] and page.checkpoint == START
    after = selectors.read_matching(START, selectors.EventFilter(), limit=10)
    assert [event.stream_id for event in after.events] == ["payment-held", "payment-later"]


def test_the_checkpoint_moves_only_from_where_its_reader_read():
    first, second = append("payment-1"), append("payment-2")
    subscription = Subscription.objects.create(name="reader")
    assert subscriptions.advance(subscription, read_from=START, to=Checkpoint(first.transaction_id, first.position))
    subscriptions.rewind(Subscription.objects.get(name="reader"), to=START)
    stale = subscriptions.advance(subscription, read_from=Checkpoint(first.transaction_id, first.position),
                                  to=Checkpoint(second.transaction_id, second.position))
    assert not stale, "a replay meanwhile wins"
    assert subscriptions.checkpoint_of(Subscription.objects.get(name="reader")) == START


def test_replay_points():
    first = append("payment-1")
    time.sleep(0.01)
    second = append("payment-2")
    recorded = Event.objects.get(position=second.position).recorded_at
    assert subscriptions.place_before(recorded) == Checkpoint(second.transaction_id, second.position - 1)
    assert subscriptions.place_before(timezone.now() + timedelta(days=1)) == Checkpoint(second.transaction_id, second.position)
    assert subscriptions.replay_point("") == START
    assert subscriptions.replay_point(f"c{first.transaction_id:x}.{first.position:x}") == Checkpoint.of(first)
    assert subscriptions.replay_point(recorded.isoformat()) == Checkpoint(second.transaction_id, second.position - 1)
    for bad in ("yesterday", "2026-13-45T00:00:00"):
        with pytest.raises(ValueError):
            subscriptions.replay_point(bad)


def test_subscription_status_shows_lag_rate_and_last_error():
    endpoint = webhooks.register(url="http://127.0.0.1:9/hooks", organization_id="org-1")
    append("payment-1")
    append("payment-2", "org-2")
    subscriptions.record_error(endpoint.subscription, "HTTP 503: busy")

    [lag] = subscription_lag.lag()
    assert lag.events_behind == 1 and lag.seconds_behind >= 0 and lag.last_error == "HTTP 503: busy"

    output = io.StringIO()
    call_command("subscription_status", stdout=output)
    text = output.getvalue()
    assert endpoint.subscription.name in text and "FAILING" in text and "HTTP 503: busy" in text
