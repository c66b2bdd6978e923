"""`manage.py bench_analytics`: the read paths at a million events, each beside the same question as
hand-written SQL through psycopg, with its PostgreSQL plan."""

import random
import statistics
import time
from datetime import UTC, datetime, timedelta

import psycopg
from django.core.management.base import BaseCommand
from django.db import connection

from analytics.queries import EventQuery, event_statistics, event_trend
from eventstore import selectors
from eventstore.benchmarking import Comparison, describe_data, report, psycopg_settings, scratch_database, timed
from eventstore.synthetic import SyntheticEvent, load_history

YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
LONG_PAYMENT, HISTORY_LENGTH = "payment-y1", 50
ORGANIZATIONS = [f"org-{n}" for n in range(20)]
CURRENCIES = ["EUR", "USD", "GBP", "CHF"]
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


def year_of_history(payments: int, events_per_payment: int, seed: int = 1):
    """Payments spread over a year, each created then refunded 1.00 at a time, with the data the
    payment domain writes (so read models can be built from them too)."""
    rng = random.Random(seed)
    for index in range(payments):
        stream_id, currency = f"payment-y{index}", rng.choice(CURRENCIES)
        organization, user = rng.choice(ORGANIZATIONS), f"user-{rng.randint(1, 500)}"
        at = YEAR_START + timedelta(seconds=rng.randint(0, 364 * 86400))
        metadata = {"organization_id": organization, "user_id": user, "correlation_id": f"order-{index // 2}"}
        amount = f"{rng.randint(100, 10**6)}.{rng.randint(0, 99):02d}"
        yield SyntheticEvent(stream_id, "PaymentProcessed", {
            "payment_id": stream_id, "organization_id": organization, "user_id": user, "amount": amount,
            "currency": currency, "description": f"Invoice {index}"}, at, metadata)
        for refund in range(1, (HISTORY_LENGTH if stream_id == LONG_PAYMENT else events_per_payment)):
            at += timedelta(minutes=rng.randint(1, 600))
            yield SyntheticEvent(stream_id, "PaymentRefunded", {
                "payment_id": stream_id, "user_id": user, "amount": "1.00", "currency": currency,
                "refunded_total": f"{refund}.00", "description": ""}, at, metadata)


def median_seconds(work, runs: int) -> float:
    return statistics.median(timed(work) for _ in range(runs))


class Command(BaseCommand):
    help = "Search, statistics, trends, timelines and histories at scale beside hand-written SQL, with plans."

    def add_arguments(self, parser):
        parser.add_argument("--payments", type=int, default=100_000)
        parser.add_argument("--events-per-payment", type=int, default=10)
        parser.add_argument("--runs", type=int, default=5)

    def handle(self, *args, payments, events_per_payment, runs, **options):
        with scratch_database():
            total = payments * events_per_payment
            describe_data(f"{total:,} events over {payments:,} payments and a year; medians of {runs} runs")
            self.stdout.write(f"Loading {total:,} events across {payments:,} payments and a year...")
            seconds = timed(lambda: load_history(year_of_history(payments, events_per_payment)))
            self.stdout.write(f"loaded at {total / seconds:,.0f} events/s")
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE eventstore_event")
            with psycopg.connect(**psycopg_settings()) as raw:
                for label, ours, hand, plan in self._questions(payments):
                    ours_s = median_seconds(ours, runs)
                    hand_s = median_seconds(lambda: hand(raw), runs)
                    report(self.stdout, Comparison(label, "ms", ours_s * 1000, hand_s * 1000,
                                                   "hand-written SQL, psycopg", higher_is_better=False, target=1.5))
                    self._plan(raw, *plan)

    def _questions(self, payments):
        day = YEAR_START + timedelta(days=180)
        month = (YEAR_START + timedelta(days=120), YEAR_START + timedelta(days=150))
        year = (YEAR_START, YEAR_START + timedelta(days=365))
        correlation, stream = f"order-{payments // 4}", LONG_PAYMENT

        def fetch(sql, params):
            return lambda raw: [raw.execute(part, params[i]).fetchall() for i, part in enumerate(sql.split(";"))]

        return [
            ("search: first page by type over one day",
             lambda: selectors.search_events(selectors.EventSearch(event_type="PaymentProcessed", since=day,
                                                                   until=day + timedelta(days=1)), limit=100),
             fetch(HAND_SQL["search"], [("PaymentProcessed", day, day + timedelta(days=1))]),
             (HAND_SQL["search"], ("PaymentProcessed", day, day + timedelta(days=1)))),
            ("statistics over one month",
             lambda: event_statistics(EventQuery("PaymentRefunded", *month)),
             fetch(HAND_SQL["statistics"], [("PaymentRefunded", *month)] * 2),
             (HAND_SQL["statistics"].split(";")[1], ("PaymentRefunded", *month))),
            ("daily trend over a year",
             lambda: event_trend(EventQuery("PaymentProcessed", *year), interval="day"),
             fetch(HAND_SQL["trend"], [(year[0].replace(tzinfo=None), (year[1] - timedelta(days=1)).replace(tzinfo=None),
                                        "PaymentProcessed", *year)]),
             (HAND_SQL["trend"], (year[0].replace(tzinfo=None), year[1].replace(tzinfo=None), "PaymentProcessed", *year))),
            ("timeline of a correlation id",
             lambda: list(selectors.events_by_correlation(correlation)),
             fetch(HAND_SQL["timeline"], [(correlation,)]), (HAND_SQL["timeline"], (correlation,))),
            (f"history of a payment ({HISTORY_LENGTH} events)",
             lambda: list(selectors.read_stream(stream)),
             fetch(HAND_SQL["history"], [(stream,)]), (HAND_SQL["history"], (stream,))),
        ]

    def _plan(self, raw, sql, params) -> None:
        plan = "\n".join(row[0] for row in raw.execute(f"EXPLAIN {sql}", params).fetchall())
        verdict = "SEQUENTIAL SCAN of eventstore_event" if "Seq Scan on eventstore_event" in plan else "index"
        self.stdout.write(f"   plan [{verdict}]:")
        for line in plan.splitlines()[:8]:
            self.stdout.write(f"     {line}")
