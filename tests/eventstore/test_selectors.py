import datetime as dt

import pytest
from django.db import connection

from eventstore import selectors
from eventstore.events import ANY
from eventstore.store import append_events
from tests.eventstore.helpers import payment_events

pytestmark = pytest.mark.django_db


def append(stream_id, events, aggregate_type="Payment"):
    return append_events(stream_id=stream_id, aggregate_type=aggregate_type, events=events, expected_version=ANY)


def test_read_stream_between_versions_across_pages():
    append("payment-1", payment_events(25))
    append("payment-2", payment_events(3))

    events = list(selectors.read_stream("payment-1", from_version=4, to_version=21, page_size=5))

    assert [event.version for event in events] == list(range(4, 22))
    assert {event.stream_id for event in events} == {"payment-1"}


def test_read_stream_of_unknown_stream_is_empty():
    assert list(selectors.read_stream("nobody")) == []


def test_events_by_type_within_a_time_range():
    first = append("payment-1", payment_events(3))
    append("payment-2", payment_events(2, event_type="PaymentRefunded"))
    later = append("payment-3", payment_events(4))
    cut = later.events[0].recorded_at

    all_processed = list(selectors.events_by_type("PaymentProcessed", page_size=2))
    after_cut = list(selectors.events_by_type("PaymentProcessed", since=cut, page_size=2))
    before_cut = list(selectors.events_by_type("PaymentProcessed", until=cut))

    assert [e.event_id for e in all_processed] == [e.event_id for e in first.events + later.events]
    assert [e.event_id for e in after_cut] == [e.event_id for e in later.events]
    assert [e.event_id for e in before_cut] == [e.event_id for e in first.events]
    assert list(selectors.events_by_type("PaymentProcessed", since=cut + dt.timedelta(days=1))) == []


def test_events_by_correlation_cross_streams_in_order():
    a = append("payment-1", payment_events(2, correlation_id="order-7"))
    append("payment-2", payment_events(2, correlation_id="order-8"))
    b = append("refund-1", payment_events(1, correlation_id="order-7"), aggregate_type="Refund")

    timeline = list(selectors.events_by_correlation("order-7", page_size=1))

    assert [e.event_id for e in timeline] == [e.event_id for e in a.events + b.events]


def test_events_by_aggregate_type():
    append("payment-1", payment_events(2))
    refund = append("refund-1", payment_events(3), aggregate_type="Refund")
    assert [e.event_id for e in selectors.events_by_aggregate_type("Refund", page_size=2)] == [
        e.event_id for e in refund.events
    ]


@pytest.mark.parametrize("query, index_name", [
    ("SELECT * FROM eventstore_event WHERE stream_id = 'payment-1' AND version >= 5 ORDER BY version LIMIT 100",
     "eventstore_event_stream_version"),
    ("SELECT * FROM eventstore_event WHERE (transaction_id, position) > (1, 1) ORDER BY transaction_id, position LIMIT 100",
     "eventstore_event_commit_order"),
    ("SELECT * FROM eventstore_event WHERE event_type = 'PaymentProcessed' AND recorded_at >= now() - interval '1 day'"
     " AND recorded_at < now() ORDER BY position LIMIT 100",
     "eventstore_event_type_time"),
    ("SELECT * FROM eventstore_event WHERE (metadata ->> 'correlation_id') = 'order-7' ORDER BY position LIMIT 100",
     "eventstore_event_correlation"),
    ("SELECT * FROM eventstore_event WHERE aggregate_type = 'Refund' AND position > 0 ORDER BY position LIMIT 100",
     "eventstore_event_pkey"),
])
def test_reads_use_their_index(query, index_name):
    from datetime import timedelta

    from django.utils import timezone

    from tests.analytics_data import random_history

    if index_name == "eventstore_event_type_time":  # on an empty table the business-time index ties with it
        random_history(payments=300, start=timezone.now() - timedelta(days=20), days=20, seed=3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE eventstore_event")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {query}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index_name in plan, plan


def test_search_pages_by_cursor_and_matches_brute_force():
    from datetime import datetime, timedelta, timezone

    from tests.analytics_data import random_history

    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    history = random_history(payments=120, start=start, days=10, seed=5)
    search = selectors.EventSearch(event_type="PaymentProcessed", organization_ids=("org-a", "org-b"),
                                   currency="EUR", since=start + timedelta(days=2), until=start + timedelta(days=8))
    expected = {(e.stream_id, e.event_type) for e in history if e.event_type == "PaymentProcessed"
                and e.metadata["organization_id"] in ("org-a", "org-b") and e.data["currency"] == "EUR"
                and search.since <= e.recorded_at < search.until}

    found, after, pages = [], 0, 0
    while True:
        page = selectors.search_events(search, after_position=after, limit=7)
        found.extend(page.events)
        pages += 1
        if page.next_after_position is None:
            break
        after = page.next_after_position

    assert {(e.stream_id, e.event_type) for e in found} == expected
    assert [e.position for e in found] == sorted(e.position for e in found)
    assert pages == len(expected) // 7 + 1


def test_the_store_keeps_no_stream_cache(settings):
    """Streams are read where they are needed (the command's load step, a payment's history in the
    API and the admin) by their primary-key index, a few rows each; nothing read them through a
    cache, so there is none to keep consistent, and no cache key built from a stream id."""
    assert not hasattr(selectors, "cached_stream")
    assert not hasattr(settings, "EVENTSTORE_STREAM_CACHE_SECONDS")
