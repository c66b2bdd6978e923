"""Wake-ups: a commit that inserted events notifies listeners at once; a rollback or an open
transaction notifies nobody."""

import threading
import time

import pytest
from django.db import connection, transaction

from eventstore import wakeups
from eventstore.events import ANY
from eventstore.store import append_events
from tests.eventstore.helpers import payment_events
from tests.threads import in_threads

pytestmark = pytest.mark.django_db(transaction=True)


def append(stream_id: str):
    append_events(stream_id=stream_id, aggregate_type="Payment", events=payment_events(1), expected_version=ANY)


def quiet_count() -> int:
    """The notification count once earlier notifications have been delivered."""
    wakeups.notifications_seen()
    time.sleep(0.3)
    return wakeups.notifications_seen()


def test_a_commit_wakes_a_waiting_reader_within_milliseconds():
    seen = quiet_count()
    woken = []

    def waiter():
        started = time.monotonic()
        woken.append((wakeups.wait_for_events(seen, 10), time.monotonic() - started))

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.2)
    append("payment-1")
    thread.join(15)
    [(was_woken, waited)] = woken
    assert was_woken
    assert waited < 5, "woken by the commit, not by the end of the wait"


def test_an_open_or_rolled_back_transaction_wakes_nobody():
    seen = quiet_count()

    class Abandon(Exception):
        pass

    with pytest.raises(Abandon), transaction.atomic():
        append("payment-1")
        assert not wakeups.wait_for_events(seen, 0.5), "notified before the commit"
        raise Abandon
    assert not wakeups.wait_for_events(seen, 0.5), "a rollback notified"
    connection.close()


def test_an_insert_that_bypasses_the_append_wakes_readers_too(plain_connection):
    """The append notifies after its commit; the trigger notifies for every other insert (only the
    owner may make one), and passes by the append's own."""
    append("payment-1")
    seen = quiet_count()
    with plain_connection() as owner:
        owner.execute(
            "INSERT INTO eventstore_event (event_id, stream_id, aggregate_type, version, event_type, data, metadata,"
            " recorded_at, prev_hash, hash) SELECT gen_random_uuid(), stream_id, aggregate_type, version + 1,"
            " event_type, data, metadata, now(), hash, repeat('f', 64) FROM eventstore_event"
            " WHERE stream_id = 'payment-1'"
        )
    assert wakeups.wait_for_events(seen, 10)
    seen = quiet_count()
    with plain_connection() as owner:
        owner.execute("SELECT eventstore_append('payment-2', 'Payment', -1, ARRAY[gen_random_uuid()],"
                      " ARRAY['PaymentProcessed'], ARRAY['{}'], ARRAY['{}'])")
    assert not wakeups.wait_for_events(seen, 0.5), "the function's own insert notified"


def test_appends_in_a_burst_share_their_notifications():
    """The notifier sends one notification for the appends that commit while it gathers: readers
    are woken by every burst, and the server does not relay one notification per append."""
    seen = quiet_count()
    appends_per_thread, threads = 50, 4

    def appender(thread: int):
        for index in range(appends_per_thread):
            append(f"payment-{thread}-{index}")

    in_threads(threads, appender)
    assert wakeups.wait_for_events(seen, 10)
    time.sleep(0.5)  # the last notification on its way
    notifications = wakeups.notifications_seen() - seen
    assert 0 < notifications < appends_per_thread * threads
