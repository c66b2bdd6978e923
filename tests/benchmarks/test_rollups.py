"""Statistics, trends and statement totals from the daily totals, at scale: each beside a raw scan of
the same range by hand-written SQL through psycopg (the question as it was answered before the daily
totals), caught up and with new events the projection has not applied yet."""

import psycopg
import pytest
from django.db import connection

from analytics.projections import DailyTotalsProjection
from analytics.statements import period_totals
from eventstore.projections.engine import apply_pending
from tests.benchmarks import test_analytics, test_business_time
from tests.benchmarks.history import year_of_history
from tests.benchmarks.measure import Comparison, psycopg_settings, timed
from tests.benchmarks.test_analytics import median_seconds
from tests.benchmarks.test_business_time import HAND_SQL, with_business_time
from tests.synthetic import indexes_built_after, load_history

pytestmark = [pytest.mark.bench, pytest.mark.timeout(7200), pytest.mark.django_db(transaction=True)]

FULL = dict(payments=500_000, events_per_payment=10, runs=5)
QUICK = dict(payments=5000, events_per_payment=10, runs=3)
TARGET = 0.05
LAGGING = 100  # payments (1,000 events) added after the catch-up, left to the reads to scan


def test_daily_totals_beside_a_raw_scan(bench, size):
    total = size.payments * size.events_per_payment
    bench.describe_data(f"{total:,} events over {size.payments:,} payments and a year of business time (recorded up to "
                        f"ten days later), loaded with COPY; daily totals caught up; medians of {size.runs} runs")
    with indexes_built_after():
        load_history(with_business_time(year_of_history(size.payments, size.events_per_payment)))
    projection = DailyTotalsProjection()
    seconds = timed(lambda: apply_pending(projection, batch_size=5000))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE eventstore_event")
        cursor.execute("VACUUM ANALYZE analytics_dailytotal")
        cursor.execute("SELECT count(*) FROM analytics_dailytotal")
        rows = cursor.fetchone()[0]
    bench.say(f"daily totals caught up with {total:,} events in {seconds:.0f}s ({total / seconds:,.0f} events/s): "
              f"{rows:,} rows ({total / rows:,.1f} events a row)")
    with psycopg.connect(**psycopg_settings()) as raw:
        compare(bench, raw, size.runs, "")
        load_history(with_business_time(year_of_history(LAGGING, size.events_per_payment, seed=9, first=size.payments)))
        compare(bench, raw, size.runs, f" ({LAGGING * size.events_per_payment:,} events not applied yet)")


def compare(bench, raw, runs: int, note: str) -> None:
    for label, ours, hand in questions().values():
        ours(), hand(raw)  # plans made and pages read once, before the timing
        ours_s, hand_s = median_seconds(ours, runs), median_seconds(lambda: hand(raw), runs)
        bench.report(Comparison(label + note, "ms", ours_s * 1000, hand_s * 1000, "raw scan, hand-written SQL",
                                higher_is_better=False, target=TARGET))


def questions() -> dict:
    """(label, ours, the raw scan) by name: the questions of bench_business_time and bench_analytics,
    the statement's totals beside the hand-written SQL of its totals."""
    business, recorded = test_business_time.questions(), test_analytics.questions(1)
    statement_label, _, _, (_, (organization, types, since, until, known_at)) = business["statement"]

    def fetch(sql, params):
        return lambda raw: [raw.execute(part, params[i]).fetchall() for i, part in enumerate(sql.split(";"))]

    totals_sql = HAND_SQL["statement"].split(";")[1]
    return {
        "statistics": business["statistics"][:3],
        "statistics by recorded time": recorded["statistics"][:3],
        "trend": business["trend"][:3],
        "statement totals": (
            "statement totals: one organization, one month, as known at its close",
            lambda: period_totals(organization_id=organization, since=since, until=until, known_at=known_at),
            fetch(totals_sql, [(organization, types, since, until, known_at)])),
    }
