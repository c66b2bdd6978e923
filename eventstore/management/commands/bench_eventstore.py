"""`manage.py bench_eventstore`: append throughput and read plans, each against a same-run baseline."""

import uuid
from datetime import timedelta

import psycopg
from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone
from psycopg.types.json import Jsonb

from eventstore import selectors
from eventstore.benchmarking import Comparison, describe_data, report, alternate, in_threads, psycopg_settings, scratch_database, timed
from eventstore.events import ANY, Checkpoint, NewEvent
from eventstore.integrity import verify_event_chain
from eventstore.store import append_events

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
DATA = {"amount": "125.50", "currency": "EUR", "description": "Invoice 2024-118"}
FAKE_HASH = "0" * 64


def metadata(index: int) -> dict:
    return {"correlation_id": f"order-{index // 3}", "user_id": "user-7", "organization_id": f"org-{index % 10}"}


def new_events(count: int, offset: int = 0) -> list[NewEvent]:
    return [NewEvent("PaymentProcessed", DATA, metadata(offset + index)) for index in range(count)]


def raw_row(stream_id: str, version: int, index: int) -> tuple:
    return (uuid.uuid4(), stream_id, version, Jsonb(DATA), Jsonb(metadata(index)), FAKE_HASH, FAKE_HASH)


class Command(BaseCommand):
    help = "Benchmark the event store against raw psycopg in the same run, then show read plans at scale."

    def add_arguments(self, parser):
        parser.add_argument("--appends", type=int, default=2000, help="Single-event appends per round.")
        parser.add_argument("--batches", type=int, default=20, help="1,000-event batches per round.")
        parser.add_argument("--rounds", type=int, default=3, help="Alternating rounds; medians are reported.")
        parser.add_argument("--plan-events", type=int, default=1_000_000, help="Events loaded before the plans (0 skips).")

    def handle(self, *args, appends, batches, rounds, plan_events, **options):
        with scratch_database() as name:
            self.stdout.write(f"Scratch database {name}; PostgreSQL {connection.pg_version // 10000}; "
                              f"medians of {rounds} alternating rounds.\n")
            with psycopg.connect(**psycopg_settings(), autocommit=True) as raw:
                raw.execute(RAW_TABLE)
            describe_data(f"{appends:,} single-event appends and {batches} batches of 1,000 per round, {rounds} rounds; "
                          f"plans and verification at {plan_events:,} events")
            for comparison in self._appends(appends, batches, rounds):
                report(self.stdout, comparison)
            if plan_events:
                self._plans_at_scale(plan_events)

    def _appends(self, appends: int, batches: int, rounds: int) -> list[Comparison]:
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
            measured, baseline = alternate(rounds, appends // threads * threads, store_single(threads), raw_single(threads))
            results.append(Comparison(f"single-event appends, {threads} thread(s)", "events/s", measured, baseline,
                                      "psycopg INSERT+COMMIT", target=0.5))

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

        measured, baseline = alternate(rounds, batches * 1000, store_batches, raw_batches)
        results.append(Comparison("1,000-event batch appends", "events/s", measured, baseline, "psycopg executemany",
                                  target=0.5))
        return results

    def _plans_at_scale(self, total: int) -> None:
        existing = connection.cursor()
        existing.execute("SELECT count(*) FROM eventstore_event")
        already = existing.fetchone()[0]
        missing = max(0, total - already)
        self.stdout.write(f"\nLoading {missing:,} more events (10 per stream, 4 threads) for the plans...")
        seconds = timed(lambda: self._load(missing))
        self.stdout.write(f"loaded at {missing / seconds:,.0f} events/s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE eventstore_event")
        self._show_plans()
        self._verify_at_scale()

    def _load(self, count: int) -> None:
        streams = count // 10
        run = uuid.uuid4().hex[:8]

        def work(thread):
            for index in range(thread, streams, 4):
                append_events(stream_id=f"load-{run}-{index}", aggregate_type="Payment",
                              events=new_events(10, index * 10), expected_version=ANY)
        in_threads(4, work)

    def _show_plans(self) -> None:
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
        self.stdout.write("\nQuery plans at scale (EXPLAIN ANALYZE):")
        for label, queryset in queries.items():
            self._explain(label, queryset)
        self._explain_read_all(transaction_id)

    def _explain(self, label, queryset) -> None:
        plan = queryset.explain(analyze=True)
        self._print_plan(label, plan)

    def _explain_read_all(self, transaction_id) -> None:
        queryset = selectors.Event.objects.filter(
            selectors.committed_after(Checkpoint(transaction_id, 0))
        ).order_by("transaction_id", "position")[:1000]
        self._print_plan("read_all: follow the store from a checkpoint", queryset.explain(analyze=True))

    def _print_plan(self, label: str, plan: str) -> None:
        scan = "SEQUENTIAL SCAN" if "Seq Scan on eventstore_event" in plan else "index"
        self.stdout.write(f"\n-- {label} [{scan}]")
        for line in plan.splitlines():
            self.stdout.write(f"   {line}")

    def _verify_at_scale(self) -> None:
        def plain_read():
            for _ in selectors.Event.objects.order_by("stream_id", "version").values_list().iterator(chunk_size=5000):
                pass
        plain = timed(plain_read)
        verify = timed(lambda: verify_event_chain(seal=False))
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM eventstore_event")
            count = cursor.fetchone()[0]
        self.stdout.write("")
        report(self.stdout, Comparison("verify_event_chain", "events/s", count / verify, count / plain,
                                       "plain ordered read"))
