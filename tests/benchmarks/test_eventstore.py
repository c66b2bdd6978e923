"""Append throughput and read plans of the event store, each against a same-run baseline: single and
batched appends beside raw psycopg INSERTs, then query plans and chain verification at scale."""

import uuid
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone
from psycopg.types.json import Jsonb

from eventstore import selectors
from eventstore.events import ANY, Checkpoint, NewEvent
from eventstore.integrity.verification import verify_event_chain
from eventstore.store import append_events
from tests.benchmarks.measure import Comparison, alternate, cpu_comparisons, psycopg_settings, timed
from tests.threads import in_threads

pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600), pytest.mark.django_db(transaction=True)]

FULL = dict(appends=2000, batches=20, rounds=3, plan_events=1_000_000)  # appends and batches per round
QUICK = dict(appends=200, batches=2, rounds=1, plan_events=20_000)

RAW_TABLE = """
CREATE TABLE IF NOT EXISTS bench_raw_events (
    position bigserial PRIMARY KEY, event_id uuid NOT NULL, stream_id text NOT NULL,
    aggregate_type text NOT NULL, version integer NOT NULL, event_type text NOT NULL,
    data jsonb NOT NULL, metadata jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(),
    prev_hash text NOT NULL, hash text NOT NULL
)
"""
RAW_INSERT = (
    "INSERT INTO bench_raw_events (event_id, stream_id, aggregate_type, version, event_type, data, metadata,"
    " prev_hash, hash) VALUES (%s, %s, 'Payment', %s, 'PaymentProcessed', %s, %s, %s, %s)"
)
DATA = {"payment_id": "payment-bench", "organization_id": "org-1", "user_id": "user-7", "amount": "125.50",
        "currency": "EUR", "description": "Invoice 2024-118"}  # as the Payment event schemas require
FAKE_HASH = "0" * 64


def metadata(index: int) -> dict:
    return {"correlation_id": f"order-{index // 3}", "user_id": "user-7", "organization_id": f"org-{index % 10}"}


def new_events(count: int, offset: int = 0) -> list[NewEvent]:
    return [NewEvent("PaymentProcessed", DATA, metadata(offset + index)) for index in range(count)]


def raw_row(stream_id: str, version: int, index: int) -> tuple:
    return (uuid.uuid4(), stream_id, version, Jsonb(DATA), Jsonb(metadata(index)), FAKE_HASH, FAKE_HASH)


@pytest.fixture
def raw_table():
    """The baseline's table: the events table's columns, without triggers, functions or indexes."""
    with psycopg.connect(**psycopg_settings(), autocommit=True) as raw:
        raw.execute(RAW_TABLE)
    yield
    with psycopg.connect(**psycopg_settings(), autocommit=True) as raw:
        raw.execute("DROP TABLE bench_raw_events")


def test_appends_beside_raw_inserts_then_plans_and_verification_at_scale(bench, size, raw_table):
    bench.say(f"Database {connection.settings_dict['NAME']}; PostgreSQL {connection.pg_version // 10000}; "
              f"medians of {size.rounds} alternating rounds.")
    bench.describe_data(f"{size.appends:,} single-event appends and {size.batches} batches of 1,000 per round, "
                        f"{size.rounds} rounds; plans and verification at {size.plan_events:,} events")
    for comparison in appends(size.appends, size.batches, size.rounds):
        bench.report(comparison)
    if size.plan_events:
        plans_at_scale(bench, size.plan_events)


def appends(appends: int, batches: int, rounds: int) -> list[Comparison]:
    run = uuid.uuid4().hex[:8]
    results = []

    def store_single(threads):
        per_thread = appends // threads

        def work(thread):
            for index in range(per_thread):
                append_events(
                    stream_id=f"single-{run}-{thread}-{index % 100}", aggregate_type="Payment",
                    events=new_events(1, index), expected_version=ANY,
                )
        return lambda: in_threads(threads, work)

    def raw_single(threads):
        per_thread = appends // threads

        def work(thread):
            with psycopg.connect(**psycopg_settings()) as raw:
                for index in range(per_thread):
                    raw.execute(RAW_INSERT, raw_row(f"single-{thread}-{index % 100}", index, index))
                    raw.commit()
        return lambda: in_threads(threads, work)

    for threads in (1, 8):
        label = f"single-event appends, {threads} thread(s)"
        runs = alternate(rounds, appends // threads * threads, store_single(threads), raw_single(threads))
        results.append(Comparison(label, "events/s", runs.measured, runs.baseline, "psycopg INSERT+COMMIT", target=0.8))
        results += cpu_comparisons(f"{label}, per event", runs.measured_cpu, runs.baseline_cpu, "psycopg INSERT+COMMIT")

    def store_batches():
        for batch in range(batches):
            append_events(stream_id=f"batch-{uuid.uuid4()}", aggregate_type="Payment",
                          events=new_events(1000), expected_version=ANY)

    def raw_batches():
        with psycopg.connect(**psycopg_settings()) as raw:
            for batch in range(batches):
                stream_id = f"batch-{uuid.uuid4()}"
                with raw.cursor() as cursor:
                    cursor.executemany(RAW_INSERT, [raw_row(stream_id, v, v) for v in range(1, 1001)])
                raw.commit()

    runs = alternate(rounds, batches * 1000, store_batches, raw_batches)
    results.append(Comparison("1,000-event batch appends", "events/s", runs.measured, runs.baseline,
                              "psycopg executemany", target=0.8))
    results += cpu_comparisons("1,000-event batch appends, per event", runs.measured_cpu, runs.baseline_cpu,
                               "psycopg executemany")
    return results


def plans_at_scale(bench, total: int) -> None:
    missing = max(0, total - event_count())
    bench.say(f"\nLoading {missing:,} more events (10 per stream, 4 threads) for the plans...")
    seconds = timed(lambda: load(missing))
    bench.say(f"loaded at {missing / seconds:,.0f} events/s")
    assert event_count() >= total
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE eventstore_event")
    show_plans(bench)
    verify_at_scale(bench)


def event_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM eventstore_event")
        return cursor.fetchone()[0]


def load(count: int) -> None:
    streams = count // 10
    run = uuid.uuid4().hex[:8]

    def work(thread):
        for index in range(thread, streams, 4):
            append_events(stream_id=f"load-{run}-{index}", aggregate_type="Payment",
                          events=new_events(10, index * 10), expected_version=ANY)
    in_threads(4, work)


def show_plans(bench) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT stream_id FROM eventstore_stream ORDER BY stream_id DESC LIMIT 1")
        stream_id = cursor.fetchone()[0]
        cursor.execute("SELECT max(transaction_id) - 1000, max(position) FROM eventstore_event")
        transaction_id, position = cursor.fetchone()
    day_ago = timezone.now() - timedelta(days=1)
    queries = {
        "stream from a version": selectors.Event.objects.filter(stream_id=stream_id, version__gte=3).order_by("version")[:100],
        "events by type over one day": selectors.Event.objects.filter(
            event_type="PaymentProcessed", recorded_at__gte=day_ago, recorded_at__lt=timezone.now()
        ).order_by("position")[:100],
        "events by correlation id": selectors.Event.objects.alias(
            correlation=selectors.KT("metadata__correlation_id")).filter(correlation="order-77").order_by("position")[:100],
        "events by aggregate type": selectors.Event.objects.filter(
            aggregate_type="Payment", position__gt=position - 5000).order_by("position")[:100],
    }
    bench.say("\nQuery plans at scale (EXPLAIN ANALYZE):")
    for label, queryset in queries.items():
        print_plan(bench, label, queryset.explain(analyze=True))
    read_all = selectors.Event.objects.filter(
        selectors.committed_after(Checkpoint(transaction_id, 0))
    ).order_by("transaction_id", "position")[:1000]
    print_plan(bench, "read_all: follow the store from a checkpoint", read_all.explain(analyze=True))


def print_plan(bench, label: str, plan: str) -> None:
    scan = "SEQUENTIAL SCAN" if "Seq Scan on eventstore_event" in plan else "index"
    bench.say(f"\n-- {label} [{scan}]")
    for line in plan.splitlines():
        bench.say(f"   {line}")


def verify_at_scale(bench) -> None:
    def plain_read():
        for _ in selectors.Event.objects.order_by("stream_id", "version").values_list().iterator(chunk_size=5000):
            pass
    plain = timed(plain_read)
    verify = timed(lambda: verify_event_chain(seal=False))
    count = event_count()
    bench.say("")
    bench.report(Comparison("verify_event_chain", "events/s", count / verify, count / plain, "plain ordered read",
                            target=0.8))
