"""Business-time reads at scale: statistics, trends and the period statement by when payments
occurred (`data.occurred_at`, most events recorded days later, a tenth written under schema version 1
without it), each beside the same question as hand-written SQL through psycopg, with its plan."""

import random
import zlib
from datetime import timedelta

import psycopg
import pytest
from django.db import connection

from analytics.selectors import EventQuery, event_statistics, event_trend
from analytics.statements import period_statement
from tests.benchmarks.history import ORGANIZATIONS, YEAR_START, year_of_history
from tests.benchmarks.measure import Comparison, psycopg_settings
from tests.benchmarks.test_analytics import median_seconds, show_plan
from tests.synthetic import SyntheticEvent, load_history

pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600), pytest.mark.django_db(transaction=True)]

FULL = dict(payments=100_000, events_per_payment=10, runs=5)
QUICK = dict(payments=5000, events_per_payment=10, runs=2)
BUSINESS = "eventstore_business_time(data, recorded_at)"
HAND_SQL = {
    "statistics": f"""SELECT count(*), count(DISTINCT stream_id), count(DISTINCT metadata->>'organization_id'),
                             count(DISTINCT metadata->>'user_id'), min({BUSINESS}), max({BUSINESS})
                      FROM eventstore_event WHERE event_type = %s AND {BUSINESS} >= %s AND {BUSINESS} < %s;
                      SELECT data->>'currency', count(*), sum((data->>'amount')::numeric), avg((data->>'amount')::numeric),
                             min((data->>'amount')::numeric), max((data->>'amount')::numeric)
                      FROM eventstore_event WHERE event_type = %s AND {BUSINESS} >= %s AND {BUSINESS} < %s
                      GROUP BY 1 ORDER BY 1""",
    "trend": f"""SELECT d.day, t.currency, t.n, t.total FROM generate_series(%s::timestamp, %s::timestamp, '1 day') AS d(day)
                 LEFT JOIN (SELECT date_trunc('day', {BUSINESS} AT TIME ZONE 'UTC') AS day, data->>'currency' AS currency,
                                   count(*) AS n, sum((data->>'amount')::numeric) AS total
                            FROM eventstore_event WHERE event_type = %s AND {BUSINESS} >= %s AND {BUSINESS} < %s
                            GROUP BY 1, 2) AS t USING (day) ORDER BY 1, 2""",
    "statement": f"""SELECT {BUSINESS}, recorded_at, stream_id, event_type, event_id, position, (data->>'amount')::numeric,
                            data->>'currency'
                     FROM eventstore_event WHERE metadata->>'organization_id' = %s AND event_type = ANY(%s)
                       AND {BUSINESS} >= %s AND {BUSINESS} < %s AND recorded_at <= %s ORDER BY 1, position;
                     SELECT data->>'currency', event_type, sum((data->>'amount')::numeric)
                     FROM eventstore_event WHERE metadata->>'organization_id' = %s AND event_type = ANY(%s)
                       AND {BUSINESS} >= %s AND {BUSINESS} < %s AND recorded_at <= %s GROUP BY 1, 2 ORDER BY 1, 2""",
}
TYPES = ["PaymentProcessed", "PaymentRefunded", "PaymentCancelled"]


def with_business_time(events, seed: int = 2):
    """The year of history, each event having occurred up to ten days before it was recorded; one
    payment in ten written under schema version 1, without occurred_at (read as its recorded time)."""
    rng = random.Random(seed)
    lag = {}
    for event in events:
        delay = lag.setdefault(event.stream_id, timedelta(seconds=rng.randint(0, 10 * 86400)))
        if zlib.crc32(event.stream_id.encode()) % 10 == 0:
            yield SyntheticEvent(event.stream_id, event.event_type, event.data, event.recorded_at + delay,
                                 {**event.metadata, "schema_version": 1})
            continue
        yield SyntheticEvent(event.stream_id, event.event_type,
                             {**event.data, "occurred_at": event.recorded_at.isoformat(timespec="microseconds")},
                             event.recorded_at + delay, {**event.metadata, "schema_version": 2})


def test_business_time_reads_beside_hand_written_sql(bench, size):
    total = size.payments * size.events_per_payment
    bench.describe_data(f"{total:,} events over {size.payments:,} payments and a year of business time, recorded up "
                        f"to ten days later; medians of {size.runs} runs")
    bench.say(f"Loading {total:,} events with business time...")
    load_history(with_business_time(year_of_history(size.payments, size.events_per_payment)))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE eventstore_event")
    with psycopg.connect(**psycopg_settings()) as raw:
        for label, ours, hand, plan in questions().values():
            ours_s = median_seconds(ours, size.runs)
            hand_s = median_seconds(lambda: hand(raw), size.runs)
            bench.report(Comparison(label, "ms", ours_s * 1000, hand_s * 1000,
                                    "hand-written SQL, psycopg", higher_is_better=False, target=1.5))
            show_plan(bench, raw, *plan)


def questions() -> dict:
    """By HAND_SQL's names, as test_analytics.questions."""
    month = (YEAR_START + timedelta(days=120), YEAR_START + timedelta(days=150))
    year = (YEAR_START, YEAR_START + timedelta(days=365))
    known_at = YEAR_START + timedelta(days=155)  # the close of that month, five days on
    organization = ORGANIZATIONS[3]
    statement_params = (organization, TYPES, *month, known_at)

    def fetch(sql, params):
        return lambda raw: [raw.execute(part, params[i]).fetchall() for i, part in enumerate(sql.split(";"))]

    return {
        "statistics": ("statistics over one month of business time",
         lambda: event_statistics(EventQuery("PaymentRefunded", *month)),
         fetch(HAND_SQL["statistics"], [("PaymentRefunded", *month)] * 2),
         (HAND_SQL["statistics"].split(";")[1], ("PaymentRefunded", *month))),
        "trend": ("daily trend over a year of business time",
         lambda: event_trend(EventQuery("PaymentProcessed", *year), interval="day"),
         fetch(HAND_SQL["trend"], [(year[0].replace(tzinfo=None), (year[1] - timedelta(days=1)).replace(tzinfo=None),
                                    "PaymentProcessed", *year)]),
         (HAND_SQL["trend"], (year[0].replace(tzinfo=None), year[1].replace(tzinfo=None), "PaymentProcessed", *year))),
        "statement": ("period statement: one organization, one month, as known at its close",
         lambda: period_statement(organization_id=organization, since=month[0], until=month[1], known_at=known_at),
         fetch(HAND_SQL["statement"], [statement_params] * 2),
         (HAND_SQL["statement"].split(";")[0], statement_params)),
    }
