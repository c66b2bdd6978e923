"""Invariant 5: a reader following the store while writers commit never skips an event."""

import threading
import time

import pytest
from django.db import connection, transaction

from eventstore import selectors
from eventstore.events import ANY, START, Checkpoint
from eventstore.models import Event
from eventstore.store import append_events
from tests.concurrent_writers import transaction_held_open
from tests.eventstore.helpers import payment_events

pytestmark = pytest.mark.django_db(transaction=True)


def append(stream_id, count=1):
    return append_events(stream_id=stream_id, aggregate_type="Payment", events=payment_events(count), expected_version=ANY)


class Follower(threading.Thread):
    """Follows the store the way a projection does, recording every event it is handed."""

    def __init__(self, stop: threading.Event):
        super().__init__()
        self.stop = stop
        self.seen: list[int] = []

    def run(self):
        checkpoint = START
        try:
            while True:
                stopping = self.stop.is_set()
                page = selectors.read_all(checkpoint, limit=50)
                self.seen.extend(event.position for event in page)
                if page:
                    checkpoint = Checkpoint.of(page[-1])
                elif stopping:
                    return
                else:
                    time.sleep(0.01)
        finally:
            connection.close()


class NaiveFollower(threading.Thread):
    """Follows positions only: the technique the store must not rely on."""

    def __init__(self, stop: threading.Event):
        super().__init__()
        self.stop = stop
        self.seen: list[int] = []

    def run(self):
        last = 0
        try:
            while not self.stop.is_set():
                page = list(Event.objects.filter(position__gt=last).order_by("position").values_list("position", flat=True)[:50])
                self.seen.extend(page)
                last = page[-1] if page else last
                time.sleep(0.01)
        finally:
            connection.close()


def slow_writer(holding: threading.Event):
    """Takes its positions first, then keeps its transaction open while the others commit."""
    try:
        with transaction.atomic():
            append("payment-slow")
            holding.set()
            time.sleep(3)
    finally:
        connection.close()


def rolled_back_writer():
    class Abandon(Exception):
        pass

    try:
        with transaction.atomic():
            append("payment-abandoned", 5)
            raise Abandon
    except Abandon:
        pass
    finally:
        connection.close()


def fast_writer(index: int):
    try:
        for round_ in range(40):
            append(f"payment-{index}-{round_ % 5}", 1 + round_ % 3)
    finally:
        connection.close()


def test_follower_sees_every_committed_event_exactly_once():
    stop, holding = threading.Event(), threading.Event()
    follower, naive = Follower(stop), NaiveFollower(stop)
    slow = threading.Thread(target=slow_writer, args=(holding,))
    follower.start()
    naive.start()
    slow.start()
    assert holding.wait(10)
    writers = [threading.Thread(target=fast_writer, args=(index,)) for index in range(8)]
    writers.append(threading.Thread(target=rolled_back_writer))
    for writer in writers:
        writer.start()
    for writer in writers + [slow]:
        writer.join()
    time.sleep(0.2)
    stop.set()
    follower.join(30)
    naive.join(30)

    committed = list(Event.objects.values_list("position", flat=True))
    assert not follower.is_alive(), "the follower stalled (on the rolled-back writer's hole?)"
    assert len(follower.seen) == len(set(follower.seen)), "an event was handed out twice"
    assert sorted(follower.seen) == sorted(committed)
    assert not Event.objects.filter(stream_id="payment-abandoned").exists()
    slow_position = Event.objects.get(stream_id="payment-slow").position
    assert slow_position not in naive.seen, "the scenario must make a position-only reader skip the slow event"


def test_reader_does_not_pass_an_open_transaction():
    with transaction_held_open(lambda: append("payment-held")):
        later = append("payment-later")
        visible = [event.stream_id for event in selectors.follow_all()]
        assert "payment-later" not in visible, "the reader went past a transaction still in flight"
    held, appended = Event.objects.get(stream_id="payment-held"), later.events[0]
    assert [(event.event_id, event.position) for event in selectors.follow_all()] == [
        (held.event_id, held.position), (appended.event_id, appended.position)]
    assert held.position < appended.position, "the held writer took its position first"
