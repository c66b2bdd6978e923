"""How far behind the store each projection is, how many events it passes over, and waiting for
the projections to catch up."""

import functools
import time
from dataclasses import dataclass
from typing import Iterable

from django.utils import timezone

from eventstore.models import Event
from eventstore.projections.engine import registered
from eventstore.projections.models import ProjectionCheckpoint, SetAsideEvent
from eventstore.replica import read_connection

LAG_COUNT_LIMIT = 100_000  # lag() counts events behind up to this many


@dataclass(frozen=True)
class Lag:
    name: str
    events_behind: int
    seconds_behind: float
    position: int
    events_applied: int
    failing_position: int | None
    set_aside: int = 0  # events an operator set aside, which the projection passes over


def lag(projection_names: Iterable[str] | None = None) -> list[Lag]:
    """Per projection: committed events not applied yet (up to LAG_COUNT_LIMIT), and the age of the
    oldest of them; for every projection in one statement."""
    names = list(projection_names) if projection_names is not None else list(registered())
    with read_connection().cursor() as cursor:
        cursor.execute(_lag_sql(), [LAG_COUNT_LIMIT, names])
        rows = cursor.fetchall()
    now = timezone.now()
    return [Lag(name, behind, max((now - oldest).total_seconds(), 0.0) if oldest else 0.0, position, applied,
                failing_position, set_aside)
            for name, position, applied, failing_position, oldest, behind, set_aside in rows]


@functools.cache
def _lag_sql() -> str:
    """Each named projection's checkpoint (none yet: the store's start), the oldest committed event past
    it, how many there are (counted up to a limit) and how many events it was told to pass over."""
    events, checkpoints, set_aside = (model._meta.db_table for model in (Event, ProjectionCheckpoint, SetAsideEvent))
    pending = f"""FROM {events} AS event
                  WHERE (event.transaction_id, event.position) > (coalesce(checkpoint.transaction_id, 0),
                                                                  coalesce(checkpoint.position, 0))
                    AND event.transaction_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"""
    return f"""
        SELECT wanted.name, coalesce(checkpoint.position, 0), coalesce(checkpoint.events_applied, 0),
               checkpoint.failing_position,
               (SELECT event.recorded_at {pending} ORDER BY event.transaction_id, event.position LIMIT 1),
               (SELECT count(*) FROM (SELECT 1 {pending} LIMIT %s) AS behind),
               (SELECT count(*) FROM {set_aside} AS aside WHERE aside.projection = wanted.name)
        FROM unnest(%s::text[]) WITH ORDINALITY AS wanted(name, number)
        LEFT JOIN {checkpoints} AS checkpoint ON checkpoint.name = wanted.name
        ORDER BY wanted.number"""


def wait_until_caught_up(timeout: float, *, poll: float = 0.5) -> dict[str, int]:
    """Wait until no projection is behind (the catch-up loop applies them); what is still behind
    after `timeout` seconds, by projection name (empty when caught up)."""
    deadline = time.monotonic() + timeout
    while True:
        behind = {each.name: each.events_behind for each in lag() if each.events_behind}
        if not behind or time.monotonic() > deadline:
            return behind
        time.sleep(poll)
