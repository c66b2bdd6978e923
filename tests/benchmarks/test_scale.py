"""How the read paths grow with the store: the history of a payment, search, the timeline of a
correlation id, statistics over one month and the period statement, asked of one store grown in steps
(a year of payment history, more payments each step), each beside the same question as hand-written
SQL at every size, and against itself at the smallest size. Index scans stay flat; what a month holds
grows with the store, and so do the month-wide aggregates over it."""

import time

import psycopg
import pytest
from django.db import connection

from tests.benchmarks import test_analytics, test_business_time
from tests.benchmarks.history import HISTORY_LENGTH, year_of_history
from tests.benchmarks.measure import Comparison, psycopg_settings, timed
from tests.benchmarks.test_analytics import median_seconds, show_plan
from tests.benchmarks.test_business_time import with_business_time
from tests.synthetic import indexes_built_after, load_history

pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600), pytest.mark.django_db(transaction=True)]

FULL = dict(sizes=(100_000, 1_000_000, 5_000_000), events_per_payment=10, runs=5)
QUICK = dict(sizes=(10_000, 50_000, 100_000), events_per_payment=10, runs=2)
FLAT = ("history", "search", "timeline")  # answered from an index whatever the store's size


def test_read_paths_as_the_store_grows(bench, size):
    sizes, per_payment = size.sizes, size.events_per_payment
    bench.describe_data(f"one store grown to {', '.join(f'{n:,}' for n in sizes)} events of a year of payment "
                        f"history ({per_payment} per payment, with business time), loaded with COPY; medians of "
                        f"{size.runs} runs at each size ({size.runs * 5} for the index scans), after one unmeasured")
    paths = read_paths(sizes[0] // per_payment)
    ours_at: dict[str, list[float]] = {name: [] for name in paths}  # seconds at each size
    loaded = 0
    with psycopg.connect(**psycopg_settings(), autocommit=True) as raw:  # no lock held while indexes are rebuilt
        for step, total in enumerate(sizes):
            grow(bench, step, loaded, total, per_payment)
            loaded = total
            for name, (label, ours, hand, _) in paths.items():
                runs = size.runs * 5 if name in FLAT else size.runs  # a millisecond is easily jostled: more runs
                ours(), hand(raw)  # plans made and pages read once, before the timing
                ours_s, hand_s = median_seconds(ours, runs), median_seconds(lambda: hand(raw), runs)
                ours_at[name].append(ours_s)
                bench.report(Comparison(f"at {total:,} events: {label}", "ms", ours_s * 1000, hand_s * 1000,
                                        "hand-written SQL, psycopg", higher_is_better=False))
        bench.say("")
        for name, (label, _, _, _) in paths.items():
            bench.report(Comparison(f"growth {sizes[0]:,} to {sizes[-1]:,} events: {label}", "ms",
                                    ours_at[name][-1] * 1000, ours_at[name][0] * 1000,
                                    f"same question at {sizes[0]:,} events", higher_is_better=False))
        for name, (label, _, _, plan) in paths.items():
            bench.say(f"{label} at {sizes[-1]:,} events:")
            kind = show_plan(bench, raw, *plan)
            assert name not in FLAT or kind == "index", f"{label} no longer reads an index"


def read_paths(first_step_payments: int) -> dict:
    """The questions of bench_analytics and bench_business_time, of data in the first step (so each is
    the same question at every size): by HAND_SQL's names, (label, ours, hand-written, plan)."""
    analytics = test_analytics.questions(first_step_payments)
    return {**{name: analytics[name] for name in ("history", "search", "timeline", "statistics")},
            "statement": test_business_time.questions()["statement"]}


def grow(bench, step: int, loaded: int, total: int, per_payment: int) -> None:
    """Add the payments that take the store from `loaded` to `total` events (with COPY, the indexes
    that back no constraint built again after it), then VACUUM ANALYZE."""
    payments = (total - loaded) // per_payment
    events = with_business_time(year_of_history(payments, per_payment, seed=step + 1, first=loaded // per_payment),
                                seed=step + 2)
    started = time.perf_counter()
    with indexes_built_after():
        written = load_history(events)
        copied = time.perf_counter() - started
    indexed = time.perf_counter() - started - copied
    vacuum = timed(vacuum_analyze)
    assert written == total - loaded + (HISTORY_LENGTH - per_payment if step == 0 else 0)
    bench.say(f"\n{total:,} events: {written:,} added with COPY in {copied:.0f}s ({written / copied:,.0f} events/s), "
              f"indexes built again in {indexed:.0f}s, VACUUM ANALYZE in {vacuum:.0f}s")


def vacuum_analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE eventstore_event")
