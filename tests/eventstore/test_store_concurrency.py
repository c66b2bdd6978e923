"""Concurrent writers on real PostgreSQL: every thread has its own connection and commits for real."""

import threading

import pytest

from eventstore.errors import WrongExpectedVersion
from eventstore.events import ANY
from eventstore.models import Event
from eventstore.selectors import read_stream, stream_version
from eventstore.store import append_events
from tests.eventstore.helpers import payment_events
from tests.threads import in_threads

pytestmark = pytest.mark.django_db(transaction=True)

STREAM = "payment-contended"


def versions_of(stream_id):
    return list(Event.objects.filter(stream_id=stream_id).order_by("version").values_list("version", flat=True))


def test_writers_with_expected_version_retry_leave_no_gap_and_no_duplicate():
    conflicts = []
    lock = threading.Lock()

    def writer(index):
        for _ in range(200):
            while True:
                expected = stream_version(STREAM) or 0
                try:
                    append_events(
                        stream_id=STREAM, aggregate_type="Payment",
                        events=payment_events(1), expected_version=expected,
                    )
                    break
                except WrongExpectedVersion as conflict:
                    # Another writer got there first: the stream is past what this one read.
                    assert conflict.expected == expected
                    assert conflict.actual_version is not None and conflict.actual_version > expected
                    with lock:
                        conflicts.append(conflict)

    in_threads(8, writer)

    assert versions_of(STREAM) == list(range(1, 1601))
    assert conflicts, "8 writers on one stream should have collided at least once"


def test_writers_with_any_lose_nothing():
    def writer(index):
        for _ in range(25):
            append_events(stream_id=STREAM, aggregate_type="Payment", events=payment_events(2), expected_version=ANY)

    in_threads(20, writer)

    assert versions_of(STREAM) == list(range(1, 1001))
    events = list(read_stream(STREAM))
    assert [event.prev_hash for event in events[1:]] == [event.hash for event in events[:-1]]


def test_the_same_batch_sent_concurrently_is_written_once():
    batch = payment_events(3)
    results = []

    def sender(index):
        results.append(
            append_events(stream_id=STREAM, aggregate_type="Payment", events=batch, expected_version=ANY)
        )

    in_threads(6, sender)

    assert versions_of(STREAM) == [1, 2, 3]
    assert all(result.events == results[0].events for result in results)
    assert sum(not result.already_stored for result in results) == 1
