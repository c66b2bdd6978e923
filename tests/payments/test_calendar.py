"""Named periods of the payments list (today, past 7 days, this month, last month) start and end at
local midnight in the viewer's zone, whatever daylight saving does to the length of a day."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from payments.admin import period_bounds

PARIS = ZoneInfo("Europe/Paris")

PERIODS = [
    # March 2026 lasts 31 days less an hour in Paris: it starts at UTC+1 and ends at UTC+2
    ("2026-04-15", "last_month", ("2026-02-28T23:00", "2026-03-31T22:00")),
    ("2026-03-29", "today", ("2026-03-28T23:00", "2026-03-29T22:00")),  # 23 hours
    ("2026-10-25", "today", ("2026-10-24T22:00", "2026-10-25T23:00")),  # 25 hours
    ("2026-10-28", "past_7_days", ("2026-10-21T22:00", "2026-10-28T23:00")),
    ("2026-11-02", "this_month", ("2026-10-31T23:00", "2026-11-30T23:00")),
    ("2026-11-02", "last_month", ("2026-09-30T22:00", "2026-10-31T23:00")),
]


def test_business_date_periods_start_at_local_midnight_across_daylight_saving():
    for today, period, bounds in PERIODS:
        now = datetime.fromisoformat(today).replace(hour=12, tzinfo=PARIS)
        expected = tuple(datetime.fromisoformat(text).replace(tzinfo=UTC) for text in bounds)
        assert period_bounds(period, PARIS, now) == expected, (today, period)
    assert period_bounds("someday", PARIS, datetime(2026, 1, 1, tzinfo=UTC)) is None
