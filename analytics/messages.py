"""What crosses the Temporal boundary for analytics. Pure Python; money as decimal strings. The
activities' signatures, names included, are in `analytics/activity_signatures.py`.
"""

from dataclasses import dataclass, field

from eventstore.temporal.inputs import instant


@dataclass
class AnalyticsRequest:
    """operation: "statistics" or "trends" (with interval and time_zone)."""

    operation: str
    event_type: str
    since: str = instant()  # ISO 8601 with offset
    until: str = instant()
    organization_ids: list[str] | None = None
    interval: str = "day"
    time_zone: str = "UTC"
    time: str = "business"  # since, until and buckets by "business" time (occurred_at) or "recorded" time


@dataclass
class CurrencyFigures:
    currency: str
    count: int
    total: str
    average: str
    minimum: str
    maximum: str


@dataclass
class StatisticsAnswer:
    event_type: str
    since: str
    until: str
    count: int
    payments: int | None  # not counted from daily totals
    organizations: int
    users: int | None
    first_at: str | None
    last_at: str | None
    currencies: list[CurrencyFigures] = field(default_factory=list)


@dataclass
class BucketFigures:
    start: str
    count: int
    totals: dict[str, str]


@dataclass
class TrendAnswer:
    event_type: str
    interval: str
    time_zone: str
    since: str
    until: str
    buckets: list[BucketFigures] = field(default_factory=list)


@dataclass
class AnalyticsAnswer:
    operation: str
    statistics: StatisticsAnswer | None = None
    trend: TrendAnswer | None = None
