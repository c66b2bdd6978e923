"""The curve: one store grown from 1,000,000 events towards 20,000,000 (BENCH_CURVE_SIZES, as far as
the disk and the time allow), and at each size its disk per million events and every question a user
or the scheduled work asks, each against the same question at the first size. A question whose
answer does not grow with the store (a payment's history, a page of search, the feed's next page, an
inclusion proof, signing and verifying after 1,000 new events, an append) should cost at most 1.5x at
the largest size what it cost at the first; statistics and the statement over one month grow with what
the month holds (more payments each step, over the same year) and carry no target."""

import os
import statistics
import time
import uuid

import pytest
from django.db import connection

from analytics.projections import DailyTotalsProjection
from eventstore import selectors
from eventstore.events import ANY, Checkpoint, NewEvent
from eventstore.integrity.incremental import verify_new_events
from eventstore.projections.engine import apply_pending
from eventstore.ledger import service as ledger
from eventstore.store import append_events
from tests.benchmarks.measure import Comparison, timed
from tests.benchmarks.test_incremental import append_new_events
from tests.benchmarks.test_ledger import DATA
from tests.benchmarks.test_scale import grow, read_paths

pytestmark = [pytest.mark.bench, pytest.mark.timeout(6 * 3600), pytest.mark.django_db(transaction=True)]


def _sizes(default: str) -> tuple[int, ...]:
    return tuple(int(size) for size in os.environ.get("BENCH_CURVE_SIZES", default).split(","))


FULL = dict(sizes=_sizes("1000000,2000000"), events_per_payment=10, runs=5)
QUICK = dict(sizes=_sizes("100000,200000"), events_per_payment=10, runs=3)
GROWTH_TARGET = 1.5
GROWS_WITH_THE_STORE = ("statistics", "statement")  # a month holds more payments at each size
NEW_EVENTS = 1000


def test_the_curve(bench, size, ledger_key):
    sizes, per_payment = size.sizes, size.events_per_payment
    bench.describe_data(f"one store grown to {', '.join(f'{n:,}' for n in sizes)} events of a year of payment history "
                        f"({per_payment} per payment, COPY), ledgered, daily totals caught up; at each size the questions below, medians of "
                        f"{size.runs} runs after one unmeasured; signing and incremental verification after "
                        f"{NEW_EVENTS:,} new events appended through the store")
    paths = read_paths(sizes[0] // per_payment)
    questions = {**{name: (label, ours) for name, (label, ours, _, _) in paths.items()},
                 "feed": ("the feed's next page (100 events)", lambda: selectors.read_all(feed_place[0], limit=100)),
                 "proof": ("an inclusion proof at the latest head", inclusion_proof),
                 "append": ("an append of one event", append_one)}
    at: dict[str, list[float]] = {name: [] for name in [*questions, "signing", "verification"]}
    loaded, feed_place = 0, []
    for step, total in enumerate(sizes):
        grow(bench, step, loaded, total, per_payment)
        feed_place = feed_place or [place_of(sizes[0] // 2)]  # a reader half-way through the first size
        loaded = total
        prepare_ledger(bench, total)
        catch_up_daily_totals(bench, total)
        bench.say(f"disk at {total:,} events: {disk_per_million(bench, total)}")
        for name, (label, ask) in questions.items():
            ask()
            at[name].append(median_seconds(ask, size.runs * (1 if name in GROWS_WITH_THE_STORE else 5)))
            bench.say(f"   {label}: {at[name][-1] * 1000:.2f} ms")
        append_new_events(NEW_EVENTS)
        at["signing"].append(timed(ledger.sign_tree_head))
        append_new_events(NEW_EVENTS)
        at["verification"].append(timed(lambda: verify_new_events(against_published=False)))
        bench.say(f"   signing after {NEW_EVENTS:,} new events: {at['signing'][-1] * 1000:.0f} ms; incremental "
                  f"verification after {NEW_EVENTS:,}: {at['verification'][-1] * 1000:.0f} ms")
    labels = {**{name: label for name, (label, _) in questions.items()},
              "signing": f"signing a head after {NEW_EVENTS:,} new events",
              "verification": f"incremental verification after {NEW_EVENTS:,} new events"}
    bench.say("")
    for name, label in labels.items():
        bench.report(Comparison(f"growth {sizes[0]:,} to {sizes[-1]:,} events: {label}", "ms", at[name][-1] * 1000,
                                at[name][0] * 1000, f"same question at {sizes[0]:,} events", higher_is_better=False,
                                target=None if name in GROWS_WITH_THE_STORE else GROWTH_TARGET))


def place_of(position: int) -> Checkpoint:
    with connection.cursor() as cursor:
        cursor.execute("SELECT transaction_id, position FROM eventstore_event WHERE position >= %s ORDER BY position"
                       " LIMIT 1", [position])
        return Checkpoint(*cursor.fetchone())


def median_seconds(work, runs: int) -> float:
    return statistics.median(timed(work) for _ in range(runs))


def inclusion_proof() -> None:
    size = ledger.ledger_size()
    ledger.inclusion_proofs([size // 3], size)


def append_one() -> None:
    append_events(stream_id=f"curve-{uuid.uuid4().hex}", aggregate_type="Payment", expected_version=ANY,
                  events=[NewEvent("PaymentProcessed", DATA, {"correlation_id": "curve"})])


def prepare_ledger(bench, total: int) -> None:
    """Ledger leaves for what was loaded, a head over them, and the incremental verification's starting
    point (its first pass reads every leaf once): the scheduled work has caught up before the questions."""
    started = time.perf_counter()
    ledger.extend_ledger()
    ledger.sign_tree_head()
    verify_new_events(against_published=False)  # on a store never verified, a full pass
    verify_new_events(against_published=False)  # then, once, every ledger leaf read (test_incremental)
    bench.say(f"ledger extended, signed and verified up to {total:,} events in {time.perf_counter() - started:.0f}s")


def catch_up_daily_totals(bench, total: int) -> None:
    """The daily totals as their catch-up loop leaves them: statistics and trends read them."""
    seconds = timed(lambda: apply_pending(DailyTotalsProjection(), batch_size=5000))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE analytics_dailytotal")
    bench.say(f"daily totals caught up to {total:,} events in {seconds:.0f}s")


def disk_per_million(bench, total: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_table_size('eventstore_event'), pg_indexes_size('eventstore_event'),"
                       " pg_total_relation_size('eventstore_event'), pg_total_relation_size('eventstore_stream'),"
                       " pg_database_size(current_database())")
        table, indexes, events, streams, database = cursor.fetchone()
    mib = 1024 * 1024
    per_million = total / 1_000_000
    return (f"events table {table / mib / per_million:,.0f} MiB + indexes {indexes / mib / per_million:,.0f} MiB = "
            f"{events / mib / per_million:,.0f} MiB per million events (streams {streams / mib / per_million:,.0f} MiB; "
            f"whole database {database / mib:,.0f} MiB)")
