"""The daily totals (analytics/projections.py) and the reads over them (analytics/rollups.py): every
answer equals a brute-force fold of the events in Python, for random ranges over a random history of
backdated events, whether the projection is behind, caught up or rebuilt."""

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from analytics import rollups
from analytics.models import DailyTotal
from analytics.projections import DailyTotalsProjection
from analytics.rollups import KNOWN
from analytics.selectors import EventQuery, event_statistics, event_trend, quantize_average
from analytics.statements import FIGURE_OF, SIGNS, opening_query, period_totals
from eventstore.projections.engine import apply_pending
from eventstore.projections.rebuild import rebuild
from eventstore.replica import read_connection
from eventstore.selectors import BUSINESS, RECORDED
from payments.domain import minor_units
from tests.synthetic import SyntheticEvent, load_history

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2026, 3, 1, tzinfo=UTC)
TODAY = START + timedelta(days=30)
ORGANIZATIONS = ["org-a", "org-b", "org-c"]
CURRENCIES = ["EUR", "JPY", "KWD"]
TYPES = list(FIGURE_OF)
OFFSETS = [timezone(timedelta(hours=hours, minutes=minutes)) for hours, minutes in ((0, 0), (2, 0), (-5, -30), (9, 45))]
projection = DailyTotalsProjection()


def backdated_history(rng: random.Random, count: int, prefix: str) -> list[SyntheticEvent]:
    """Events that occurred over thirty days and were recorded up to six days later; one in five a
    correction recorded weeks after it occurred; some without business time (recorded time counts)."""
    events = []
    for index in range(count):
        occurred = START + timedelta(seconds=rng.randint(0, 29 * 86400), microseconds=rng.choice([0, 1, 999_999]))
        if rng.random() < 0.2:
            occurred = occurred.replace(hour=0, minute=0, second=0, microsecond=0)  # on a day's edge
        late = timedelta(days=rng.randint(8, 25)) if rng.random() < 0.2 else timedelta(seconds=rng.randint(0, 6 * 86400))
        currency = rng.choice(CURRENCIES)
        amount = Decimal(rng.randint(1, 10**6)).scaleb(-minor_units(currency))
        data = {"amount": str(amount), "currency": currency, "payment_id": f"{prefix}-{index}"}
        if rng.random() < 0.9:
            data["occurred_at"] = occurred.isoformat(timespec="microseconds")
        events.append(SyntheticEvent(f"payment-{prefix}-{index}", rng.choice(TYPES), data, occurred + late,
                                     {"organization_id": rng.choice(ORGANIZATIONS), "user_id": "user-1"}))
    load_history(events)
    return events


def moment(event: SyntheticEvent, time: str) -> datetime:
    if time == BUSINESS and "occurred_at" in event.data:
        return datetime.fromisoformat(event.data["occurred_at"])
    return event.recorded_at


def matching(events, event_types, time, since, until, organizations=None, known_at=None):
    return [event for event in events if event.event_type in event_types and since <= moment(event, time) < until
            and (organizations is None or event.metadata["organization_id"] in organizations)
            and (known_at is None or event.recorded_at <= known_at)]


def random_instant(rng: random.Random) -> datetime:
    at = START + timedelta(days=rng.randint(-2, 31))
    if rng.random() < 0.6:
        at += timedelta(seconds=rng.randint(0, 86399), microseconds=rng.choice([0, 1, 500_000]))
    return at.astimezone(rng.choice(OFFSETS))


def random_range(rng: random.Random) -> tuple[datetime, datetime]:
    since = random_instant(rng)
    return since, since + rng.choice([timedelta(hours=rng.randint(1, 30)), timedelta(days=rng.randint(1, 25)),
                                      timedelta(days=rng.randint(1, 20), seconds=rng.randint(1, 86399))])


def assert_answers_match(events, rng: random.Random, ranges: int) -> None:
    for _ in range(ranges):
        since, until = random_range(rng)
        event_type, time = rng.choice(TYPES), rng.choice([BUSINESS, RECORDED])
        organizations = rng.choice([None, ("org-a",), ("org-b", "org-c")])
        expected = matching(events, [event_type], time, since, until, organizations)
        context = f"{event_type} by {time} time over [{since}, {until}) for {organizations}"
        assert_statistics(event_statistics(EventQuery(event_type, since, until, organizations, time)), expected,
                          time, context)
        interval = rng.choice(["day", "week", "month"])
        trend = event_trend(EventQuery(event_type, since, until, organizations, time), interval=interval)
        assert_trend(trend, expected, time, interval, context)
        known_at = rng.choice([TODAY + timedelta(days=40), random_instant(rng)])
        organization = rng.choice(ORGANIZATIONS)
        assert_totals(period_totals(organization_id=organization, since=since, until=until, known_at=known_at),
                      matching(events, TYPES, BUSINESS, since, until, (organization,), known_at),
                      f"statement of {organization} over [{since}, {until}) as known at {known_at}")
        assert_opening(organization, since, known_at, events)


def assert_opening(organization, since, known_at, events) -> None:
    """The opening balance (every business time before `since`, as known at `known_at`) and its count
    of events equal a fold; its newest place covers every event it counts."""
    with read_connection().cursor() as cursor:
        cursor.execute(*opening_query(organization_id=organization, since=since, known_at=known_at))
        rows = cursor.fetchall()
    expected = matching(events, TYPES, BUSINESS, START - timedelta(days=400), since, (organization,), known_at)
    sums, counts = defaultdict(Decimal), defaultdict(int)
    for event in expected:
        sums[event.data["currency"]] += SIGNS[FIGURE_OF[event.event_type]] * Decimal(event.data["amount"])
        counts[event.data["currency"]] += 1
    opening, counted = defaultdict(Decimal), defaultdict(int)
    for currency, event_type, total, count, _ in rows:
        if count:
            opening[currency] += SIGNS[FIGURE_OF[event_type]] * total
            counted[currency] += count
    context = f"opening of {organization} before {since} as known at {known_at}"
    assert (dict(opening), dict(counted)) == (dict(sums), dict(counts)), context
    newest = max((row[4] for row in rows if row[4]), default=None)
    assert not expected or newest >= max(places(expected)), context


def places(events) -> list[list[int]]:
    with read_connection().cursor() as cursor:
        cursor.execute("SELECT ARRAY[transaction_id, position] FROM eventstore_event WHERE stream_id = ANY(%s)",
                       [[event.stream_id for event in events]])
        return [row[0] for row in cursor.fetchall()]


def assert_statistics(stats, expected, time, context) -> None:
    assert stats.count == len(expected), context
    assert stats.organizations == len({event.metadata["organization_id"] for event in expected}), context
    assert stats.first_at == min((moment(event, time) for event in expected), default=None), context
    assert stats.last_at == max((moment(event, time) for event in expected), default=None), context
    amounts = defaultdict(list)
    for event in expected:
        amounts[event.data["currency"]].append(Decimal(event.data["amount"]))
    assert [(c.currency, c.count, c.total, c.average, c.minimum, c.maximum) for c in stats.currencies] == [
        (currency, len(values), sum(values), quantize_average(sum(values) / len(values), min(values)), min(values),
         max(values)) for currency, values in sorted(amounts.items())], context


def assert_trend(trend, expected, time, interval, context) -> None:
    buckets = {bucket.start: bucket for bucket in trend.buckets}
    counts, totals = defaultdict(int), defaultdict(Decimal)
    for event in expected:
        start = bucket_start(moment(event, time).astimezone(UTC), interval)
        assert start in buckets, f"{context}: no {interval} bucket for {event}"
        counts[start] += 1
        totals[start, event.data["currency"]] += Decimal(event.data["amount"])
    assert {start: bucket.count for start, bucket in buckets.items() if bucket.count} == dict(counts), context
    assert {(start, currency): total for start, bucket in buckets.items()
            for currency, total in bucket.totals.items()} == dict(totals), context


def bucket_start(at: datetime, interval: str) -> datetime:
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1) if interval == "month" else day


def assert_totals(totals, expected, context) -> None:
    sums = defaultdict(Decimal)
    for event in expected:
        sums[event.data["currency"], FIGURE_OF[event.event_type]] += Decimal(event.data["amount"])
    assert {(t.currency, figure): getattr(t, figure) for t in totals for figure in ("processed", "refunded", "cancelled")
            if (t.currency, figure) in sums} == dict(sums), context
    assert {t.currency for t in totals} == {currency for currency, _ in sums}, context


def stored_rows() -> set[tuple]:
    return set(DailyTotal.objects.values_list("basis", "day", "recorded_day", "organization_id", "currency",
                                              "event_type", "events", "amounts", "amount_total", "amount_min",
                                              "amount_max", "first_at", "last_at"))


def test_answers_from_daily_totals_equal_a_fold_of_the_events_however_far_the_projection_is(monkeypatch):
    """Random ranges (any offsets, edges inside days and on midnights) over random backdated
    histories: with the projection behind, caught up, given more late corrections, and rebuilt."""
    rng = random.Random(29)
    events = backdated_history(rng, 400, "first")
    apply_pending(projection, batch_size=100, max_batches=2)  # half applied: rows, then the events past them
    assert 0 < DailyTotal.objects.count()
    assert_answers_match(events, rng, ranges=12)
    with monkeypatch.context() as far_behind:  # events past the checkpoint read as a range, not listed
        far_behind.setattr(rollups, "LISTED_LAG", 0)
        assert_answers_match(events, rng, ranges=6)

    apply_pending(projection)
    assert_answers_match(events, rng, ranges=12)

    events += backdated_history(rng, 150, "corrections")  # not applied yet: read from the store
    assert_answers_match(events, rng, ranges=8)
    apply_pending(projection)
    assert_answers_match(events, rng, ranges=8)

    before = stored_rows()
    assert rebuild(projection, batch_size=97, restart=True).swapped
    assert stored_rows() == before
    assert apply_pending(projection).applied == 0


def test_a_backdated_correction_lands_in_its_business_day_and_its_recorded_day():
    occurred, recorded = START + timedelta(days=2, hours=10), TODAY + timedelta(hours=15)
    load_history([SyntheticEvent("payment-late", "PaymentRefunded", {
        "amount": "12.50", "currency": "EUR", "payment_id": "late", "occurred_at": occurred.isoformat()},
        recorded, {"organization_id": "org-a", "user_id": "user-1"})])
    apply_pending(projection)

    rows = set(DailyTotal.objects.values_list("basis", "day", "recorded_day", "events", "amount_total"))
    assert rows == {(BUSINESS, occurred.date(), occurred.date(), 1, Decimal("12.50")),
                    (KNOWN, occurred.date(), recorded.date(), 1, Decimal("12.50")),
                    (RECORDED, recorded.date(), recorded.date(), 1, Decimal("12.50"))}
    old_day = EventQuery("PaymentRefunded", START + timedelta(days=2), START + timedelta(days=3))
    assert event_statistics(old_day).count == 1
    assert event_statistics(EventQuery("PaymentRefunded", TODAY, TODAY + timedelta(days=1), time=RECORDED)).count == 1
    assert event_statistics(EventQuery("PaymentRefunded", TODAY, TODAY + timedelta(days=1))).count == 0
    month = dict(organization_id="org-a", since=START, until=START + timedelta(days=31))
    assert period_totals(**month, known_at=TODAY)[0:] == []  # the month as closed before the correction
    assert [t.refunded for t in period_totals(**month, known_at=recorded)] == [Decimal("12.50")]
