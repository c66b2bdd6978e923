"""Statistics and trends from PostgreSQL checked against a brute-force computation in Python."""

from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from analytics.selectors import EventQuery, InvalidQuery, event_statistics, event_trend, quantize_average
from tests.analytics_data import random_history

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, tzinfo=timezone.utc)  # spans the end of daylight saving time in Europe


@pytest.fixture(scope="module")
def history(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        from django.db import connection

        events = random_history(payments=600, start=START, days=40, seed=3)
        yield events
        with connection.cursor() as cursor:  # module-scoped rows: remove them the way the test backend flushes
            cursor.execute("SET session_replication_role = replica; DELETE FROM eventstore_event; "
                           "DELETE FROM eventstore_stream; SET session_replication_role = origin")


def in_range(events, event_type, since, until, organizations=None):
    return [e for e in events if e.event_type == event_type and since <= e.recorded_at < until
            and (organizations is None or e.metadata["organization_id"] in organizations)]


@pytest.mark.parametrize("event_type, days, organizations", [
    ("PaymentProcessed", (0, 40), None), ("PaymentRefunded", (3, 17), None),
    ("PaymentProcessed", (10, 11), ("org-a",)), ("PaymentCancelled", (0, 40), None),
])
def test_statistics_match_brute_force(history, event_type, days, organizations):
    since, until = START + timedelta(days=days[0]), START + timedelta(days=days[1])
    expected = in_range(history, event_type, since, until, organizations)

    stats = event_statistics(EventQuery(event_type, since, until, organizations))

    assert stats.count == len(expected)
    assert stats.payments is None  # distinct counts are no sums of days
    assert stats.organizations == len({e.metadata["organization_id"] for e in expected})
    assert stats.users is None
    assert stats.first_at == min((e.recorded_at for e in expected), default=None)
    assert stats.last_at == max((e.recorded_at for e in expected), default=None)
    by_currency = defaultdict(list)
    for event in expected:
        by_currency[event.data["currency"]].append(Decimal(event.data["amount"]))
    assert [c.currency for c in stats.currencies] == sorted(by_currency)
    for currency in stats.currencies:
        amounts = by_currency[currency.currency]
        assert (currency.count, currency.total, currency.minimum, currency.maximum) == (
            len(amounts), sum(amounts), min(amounts), max(amounts))
        assert currency.average == quantize_average(sum(amounts) / len(amounts), min(amounts))
        assert all(isinstance(value, Decimal) for value in (currency.total, currency.average))


@pytest.mark.parametrize("interval, zone, days", [
    ("day", "UTC", (0, 40)), ("day", "Europe/Paris", (20, 35)), ("hour", "America/New_York", (5, 7)),
    ("week", "Asia/Tokyo", (0, 40)), ("month", "UTC", (0, 40)), ("day", "Asia/Kolkata", (38, 45)),
])
def test_trends_match_brute_force_with_empty_buckets(history, interval, zone, days):
    since, until = START + timedelta(days=days[0]), START + timedelta(days=days[1])
    expected = in_range(history, "PaymentProcessed", since, until)

    trend = event_trend(EventQuery("PaymentProcessed", since, until), interval=interval, time_zone=zone)

    local = ZoneInfo(zone)
    starts = [bucket.start for bucket in trend.buckets]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert starts[0] <= since.astimezone(local) and all(s.tzinfo == local for s in starts)
    counts, totals = defaultdict(int), defaultdict(lambda: defaultdict(Decimal))
    for event in expected:
        start = truncate(event.recorded_at.astimezone(local), interval)
        counts[start] += 1
        totals[start][event.data["currency"]] += Decimal(event.data["amount"])
    by_start = {bucket.start.replace(tzinfo=None): bucket for bucket in trend.buckets}
    assert set(counts) <= set(by_start)
    for start, bucket in by_start.items():
        assert bucket.count == counts.get(start, 0), start
        assert bucket.totals == dict(totals.get(start, {})), start
    if days[1] > 40:  # beyond the history: buckets still there, as zeros
        assert trend.buckets[-1].count == 0 and trend.buckets[-1].totals == {}


def truncate(moment: datetime, interval: str) -> datetime:
    moment = moment.replace(tzinfo=None)
    if interval == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "day":
        return day
    if interval == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def test_an_empty_range_is_an_empty_result_not_an_error(history):
    since = START - timedelta(days=10)
    stats = event_statistics(EventQuery("PaymentProcessed", since, START))
    assert (stats.count, stats.currencies, stats.first_at) == (0, [], None)
    trend = event_trend(EventQuery("PaymentProcessed", since, START), interval="day")
    assert len(trend.buckets) == 10 and all(b.count == 0 and b.totals == {} for b in trend.buckets)


@pytest.mark.parametrize("arguments, field", [
    (dict(event_type="PaymentExploded"), "event_type"),
    (dict(since=START + timedelta(days=2), until=START), "from"),
    (dict(until=START + timedelta(days=5000)), "to"),
    (dict(since=datetime(2026, 3, 1)), "since"),
])
def test_bad_queries_are_clear_errors(arguments, field):
    query = dict(event_type="PaymentProcessed", since=START, until=START + timedelta(days=1))
    query.update(arguments)
    with pytest.raises(InvalidQuery) as raised:
        event_statistics(EventQuery(**query))
    assert raised.value.field == field


@pytest.mark.parametrize("interval, zone, field", [
    ("fortnight", "UTC", "interval"), ("hour", "UTC", "interval"), ("day", "Mars/Olympus", "time_zone"),
])
def test_bad_trend_parameters_are_clear_errors(interval, zone, field):
    with pytest.raises(InvalidQuery) as raised:
        event_trend(EventQuery("PaymentProcessed", START, START + timedelta(days=700)), interval=interval, time_zone=zone)
    assert raised.value.field == field
