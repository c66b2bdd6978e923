"""Tracking records: a consumer's rows and its progress commit together, so it never doubles anything."""

import signal
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings
from django.db import connection, transaction

from eventstore.events import ANY, START, Checkpoint
from eventstore.models import Event
from eventstore.projections import tracking
from eventstore.projections.models import Tracking
from eventstore.store import append_events
from tests.eventstore.helpers import payment_events
from tests.processes import BASE_DIR, command_env
from tests.waiting import sessions_waiting_behind, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def append(stream_id: str, count: int = 1):
    return append_events(stream_id=stream_id, aggregate_type="Payment", events=payment_events(count, payment_id=stream_id),
                         expected_version=ANY)


def test_a_second_record_of_the_same_place_fails():
    event = append("payment-1").events[0]
    with transaction.atomic():
        tracking.track("consumer", read_from=START, to=Checkpoint.of(event))
    with pytest.raises(tracking.AlreadyTracked), transaction.atomic():
        tracking.track("consumer", read_from=START, to=Checkpoint.of(event))
    assert tracking.tracked("consumer") == Checkpoint.of(event)
    assert Tracking.objects.filter(consumer="consumer").count() == 1


def test_a_runner_behind_another_cannot_record_over_it():
    first, second = (append(f"payment-{index}").events[0] for index in range(2))
    with transaction.atomic():
        tracking.track("consumer", read_from=START, to=Checkpoint.of(second))
    with pytest.raises(tracking.AlreadyTracked), transaction.atomic():
        tracking.track("consumer", read_from=START, to=Checkpoint.of(first))


def test_consume_resumes_after_what_it_recorded():
    append("payment-1", 3)
    applied = []

    def handler(events):
        applied.extend(events)

    assert tracking.consume("consumer", handler).applied == 3
    assert tracking.consume("consumer", handler).applied == 0
    append("payment-2")
    assert tracking.consume("consumer", handler).applied == 1
    assert [event.position for event in applied] == sorted(Event.objects.values_list("position", flat=True))


def test_two_runners_at_once_apply_each_event_once():
    append("payment-1", 40)
    rows = []
    lock = threading.Lock()

    def handler(events):
        time.sleep(0.05)
        with lock:
            rows.extend(event.position for event in events)

    def runner():
        try:
            for _ in range(20):
                try:
                    with transaction.atomic():
                        handled = []
                        tracking.consume("consumer", handled.extend, batch_size=7)
                        handler(handled)
                except tracking.AlreadyTracked:
                    pass
        finally:
            connection.close()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(rows) == sorted(Event.objects.values_list("position", flat=True))


@pytest.fixture
def consumer_rows(plain_connection):
    with plain_connection() as plain:
        plain.execute("CREATE TABLE consumer_rows (id bigserial PRIMARY KEY, event_id uuid NOT NULL, position bigint NOT NULL)")
        if settings.DATABASE_APP_ROLE:
            plain.execute(f'GRANT SELECT, INSERT ON consumer_rows TO "{settings.DATABASE_APP_ROLE}"')
            plain.execute(f'GRANT USAGE ON SEQUENCE consumer_rows_id_seq TO "{settings.DATABASE_APP_ROLE}"')
    yield
    with plain_connection() as plain:
        plain.execute("DROP TABLE consumer_rows")


def consumer_process() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.tracking_consumer"], cwd=BASE_DIR, env=command_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def written_rows() -> list[tuple[str, int]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT event_id::text, position FROM consumer_rows ORDER BY id")
        return cursor.fetchall()


def test_a_consumer_killed_mid_way_resumes_without_doubling_anything(consumer_rows):
    for index in range(20):
        append(f"payment-{index}", 5)
    consumer = consumer_process()
    deadline = time.monotonic() + 60
    while Tracking.objects.filter(consumer="test-consumer").count() < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)  # into the next batch: rows written, not yet committed
    consumer.send_signal(signal.SIGKILL)
    consumer.wait(10)
    done_at_kill = len(written_rows())
    assert 0 < done_at_kill < 100, "killed in the middle"

    resumed = consumer_process()
    output, _ = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, output

    rows = written_rows()
    committed = list(Event.objects.order_by("transaction_id", "position").values_list("event_id", "position"))
    assert [(str(event_id), position) for event_id, position in committed] == rows
    assert f"applied {100 - done_at_kill}" in output


def test_a_consumer_killed_between_its_rows_and_its_record_resumes_without_doubling_anything(
    consumer_rows, plain_connection
):
    """Another session holds the tracking records locked, so the consumer's handler has written its
    first batch when it waits to record it; the consumer is killed there, and its session with it."""
    for index in range(5):
        append(f"payment-{index}", 5)
    with plain_connection(autocommit=False) as holder:
        holder.execute(f"LOCK TABLE {Tracking._meta.db_table} IN EXCLUSIVE MODE")  # reading it is still allowed
        consumer = consumer_process()
        waiting = wait_for(lambda: sessions_waiting_behind(holder))
        consumer.send_signal(signal.SIGKILL)
        consumer.wait(10)
        assert waiting, "the consumer never reached its tracking record"
        # the server ends a dead client's session once it notices; here, at once
        holder.execute("SELECT pg_terminate_backend(pid, 5000) FROM unnest(%s::int[]) AS pid", [waiting])

    resumed = consumer_process()
    output, _ = resumed.communicate(timeout=120)

    assert resumed.returncode == 0, output
    committed = list(Event.objects.order_by("transaction_id", "position").values_list("event_id", "position"))
    assert written_rows() == [(str(event_id), position) for event_id, position in committed]
    assert "applied 25" in output
