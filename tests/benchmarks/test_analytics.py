"""The read paths at scale (search, statistics, trends, timelines, histories), each beside the same
question as hand-written SQL through psycopg, with its PostgreSQL plan."""

import statistics
from datetime import timedelta

import psycopg
import pytest
from django.db import connection

from analytics.selectors import EventQuery, event_statistics, event_trend
from eventstore import selectors
from eventstore.selectors import RECORDED
from tests.benchmarks.history import HISTORY_LENGTH, LONG_PAYMENT, YEAR_START, year_of_history
from tests.benchmarks.measure import Comparison, psycopg_settings, timed
from tests.synthetic import load_history

pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600), pytest.mark.django_db(transaction=True)]

FULL = dict(payments=100_000, events_per_payment=10, runs=5)
QUICK = dict(payments=5000, events_per_payment=10, runs=2)
HAND_SQL = {
    "search": """SELECT position, event_id, stream_id, event_type, version, data, metadata, recorded_at
                 FROM eventstore_event WHERE event_type = %s AND recorded_at >= %s AND recorded_at < %s
                 ORDER BY position LIMIT 101""",
    "statistics": """SELECT count(*), count(DISTINCT stream_id), count(DISTINCT metadata->>'organization_id'),
                            count(DISTINCT metadata->>'user_id'), min(recorded_at), max(recorded_at)
                     FROM eventstore_event WHERE event_type = %s AND recorded_at >= %s AND recorded_at < %s;
                     SELECT data->>'currency', count(*), sum((data->>'amount')::numeric), avg((data->>'amount')::numeric),
                            min((data->>'amount')::numeric), max((data->>'amount')::numeric)
                     FROM eventstore_event WHERE event_type = %s AND recorded_at >= %s AND recorded_at < %s
                     GROUP BY 1 ORDER BY 1""",
    "trend": """SELECT d.day, t.currency, t.n, t.total FROM generate_series(%s::timestamp, %s::timestamp, '1 day') AS d(day)
                LEFT JOIN (SELECT date_trunc('day', recorded_at AT TIME ZONE 'UTC') AS day, data->>'currency' AS currency,
                                  count(*) AS n, sum((data->>'amount')::numeric) AS total
                           FROM eventstore_event WHERE event_type = %s AND recorded_at >= %s AND recorded_at < %s
                           GROUP BY 1, 2) AS t USING (day) ORDER BY 1, 2""",
    "timeline": """SELECT position, event_id, stream_id, event_type, version, data, metadata, recorded_at
                   FROM eventstore_event WHERE metadata->>'correlation_id' = %s ORDER BY position""",
    "history": """SELECT position, event_id, stream_id, event_type, version, data, metadata, recorded_at
                  FROM eventstore_event WHERE stream_id = %s ORDER BY version""",
}


def median_seconds(work, runs: int) -> float:
    return statistics.median(timed(work) for _ in range(runs))


def test_read_paths_beside_hand_written_sql(bench, size):
    total = size.payments * size.events_per_payment
    bench.describe_data(f"{total:,} events over {size.payments:,} payments and a year; medians of {size.runs} runs")
    bench.say(f"Loading {total:,} events across {size.payments:,} payments and a year...")
    loaded = []
    seconds = timed(lambda: loaded.append(load_history(year_of_history(size.payments, size.events_per_payment))))
    bench.say(f"loaded at {total / seconds:,.0f} events/s")
    assert loaded == [total + HISTORY_LENGTH - size.events_per_payment]
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE eventstore_event")
    with psycopg.connect(**psycopg_settings()) as raw:
        for label, ours, hand, plan in questions(size.payments).values():
            ours_s = median_seconds(ours, size.runs)
            hand_s = median_seconds(lambda: hand(raw), size.runs)
            bench.report(Comparison(label, "ms", ours_s * 1000, hand_s * 1000,
                                    "hand-written SQL, psycopg", higher_is_better=False, target=1.5))
            show_plan(bench, raw, *plan)


def questions(payments: int) -> dict:
    """By HAND_SQL's names, each (label, ours, hand-written SQL on a psycopg connection, plan's SQL and
    parameters); by recorded time, as the hand-written SQL asks (bench_business_time asks by business time)."""
    day = YEAR_START + timedelta(days=180)
    month = (YEAR_START + timedelta(days=120), YEAR_START + timedelta(days=150))
    year = (YEAR_START, YEAR_START + timedelta(days=365))
    correlation, stream = f"order-{payments // 4}", LONG_PAYMENT

    def fetch(sql, params):
        return lambda raw: [raw.execute(part, params[i]).fetchall() for i, part in enumerate(sql.split(";"))]

    return {
        "search": ("search: first page by type over one day",
         lambda: selectors.search_events(selectors.EventSearch(event_type="PaymentProcessed", since=day,
                                                               until=day + timedelta(days=1)), limit=100),
         fetch(HAND_SQL["search"], [("PaymentProcessed", day, day + timedelta(days=1))]),
         (HAND_SQL["search"], ("PaymentProcessed", day, day + timedelta(days=1)))),
        "statistics": ("statistics over one month",
         lambda: event_statistics(EventQuery("PaymentRefunded", *month, time=RECORDED)),
         fetch(HAND_SQL["statistics"], [("PaymentRefunded", *month)] * 2),
         (HAND_SQL["statistics"].split(";")[1], ("PaymentRefunded", *month))),
        "trend": ("daily trend over a year",
         lambda: event_trend(EventQuery("PaymentProcessed", *year, time=RECORDED), interval="day"),
         fetch(HAND_SQL["trend"], [(year[0].replace(tzinfo=None), (year[1] - timedelta(days=1)).replace(tzinfo=None),
                                    "PaymentProcessed", *year)]),
         (HAND_SQL["trend"], (year[0].replace(tzinfo=None), year[1].replace(tzinfo=None), "PaymentProcessed", *year))),
        "timeline": ("timeline of a correlation id",
         lambda: list(selectors.events_by_correlation(correlation)),
         fetch(HAND_SQL["timeline"], [(correlation,)]), (HAND_SQL["timeline"], (correlation,))),
        "history": (f"history of a payment ({HISTORY_LENGTH} events)",
         lambda: list(selectors.read_stream(stream)),
         fetch(HAND_SQL["history"], [(stream,)]), (HAND_SQL["history"], (stream,))),
    }


def show_plan(bench, raw, sql, params) -> str:
    plan = "\n".join(row[0] for row in raw.execute(f"EXPLAIN {sql}", params).fetchall())
    verdict = "SEQUENTIAL SCAN of eventstore_event" if "Seq Scan on eventstore_event" in plan else "index"
    bench.say(f"   plan [{verdict}]:")
    for line in plan.splitlines()[:8]:
        bench.say(f"     {line}")
    return verdict
