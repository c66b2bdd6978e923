"""The daily totals projection: per organization, currency, event type and time basis, how many
events of a day and their amounts (`analytics.models.DailyTotal`).

Written in SQL from the stored rows with the store's own business time function and the amount rule
the raw scans use, so a day's row holds exactly what a scan of that day would find. Not prompt: a
day's row is shared by every payment of the day, and adding to it in each append's transaction would
make concurrent commands wait on one another; the catch-up loop applies events in batches, and reads
cover what it has not applied yet themselves (`analytics.rollups`).
"""

from django.db import connection

from analytics.models import DailyTotal
from eventstore.events import RecordedEvent
from eventstore.projections.engine import Projection
from payments.domain import EventType

NAME = "analytics_daily_totals"
ROLLUP_TIME_ZONE = "UTC"  # the zone days are cut in; per organization once organizations carry one

# An event's amount, or NULL where it holds none a numeric reads (the raw scans' rule too).
AMOUNT = "(CASE WHEN pg_input_is_valid(e.data->>'amount', 'numeric') THEN (e.data->>'amount')::numeric END)"
_ADD_SQL = f"""
    INSERT INTO analytics_dailytotal AS t (
        basis, day, recorded_day, time_zone, organization_id, currency, event_type, events, amounts,
        amount_total, amount_min, amount_max, first_at, last_at, through_transaction, through_position)
    SELECT b.basis, (b.moment AT TIME ZONE z.zone)::date, (b.recorded AT TIME ZONE z.zone)::date, z.zone,
           e.metadata->>'organization_id', e.data->>'currency', e.event_type, count(*), count({AMOUNT}),
           sum({AMOUNT}), min({AMOUNT}), max({AMOUNT}), min(b.moment), max(b.moment), %(transaction)s, %(position)s
    FROM eventstore_event AS e
    CROSS JOIN LATERAL (SELECT %(zone)s::text AS zone) AS z
    CROSS JOIN LATERAL (SELECT eventstore_business_time(e.data, e.recorded_at) AS at) AS business
    CROSS JOIN LATERAL (VALUES ('business', business.at, business.at), ('recorded', e.recorded_at, e.recorded_at),
                               ('known', business.at, e.recorded_at)) AS b(basis, moment, recorded)
    WHERE e.position = ANY(%(positions)s) AND e.event_type = ANY(%(event_types)s)
    GROUP BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (basis, event_type, day, organization_id, currency, recorded_day) DO UPDATE SET
        events = t.events + EXCLUDED.events, amounts = t.amounts + EXCLUDED.amounts,
        amount_total = coalesce(t.amount_total + EXCLUDED.amount_total, t.amount_total, EXCLUDED.amount_total),
        amount_min = least(t.amount_min, EXCLUDED.amount_min), amount_max = greatest(t.amount_max, EXCLUDED.amount_max),
        first_at = least(t.first_at, EXCLUDED.first_at), last_at = greatest(t.last_at, EXCLUDED.last_at),
        through_transaction = EXCLUDED.through_transaction, through_position = EXCLUDED.through_position
    WHERE (t.through_transaction, t.through_position) < (EXCLUDED.through_transaction, EXCLUDED.through_position)
"""


class DailyTotalsProjection(Projection):
    """Adds each batch of events to the rows of their days, one statement per batch. The rows
    remember the last event added, so a batch applied again adds nothing."""

    name = NAME
    models = (DailyTotal,)
    prompt = False
    event_types = tuple(str(event_type) for event_type in EventType)

    def apply(self, events: list[RecordedEvent]) -> None:
        positions = [event.position for event in events if event.event_type in self.event_types]
        if not positions:
            return
        last = events[-1]
        with connection.cursor() as cursor:
            cursor.execute(_ADD_SQL, {
                "zone": ROLLUP_TIME_ZONE, "positions": positions, "event_types": list(self.event_types),
                "transaction": last.transaction_id, "position": last.position})


PROJECTIONS = [DailyTotalsProjection()]
