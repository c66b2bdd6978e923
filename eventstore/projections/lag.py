"""How far behind the store each projection is, how many events it passes over, and waiting for
the projections to catch up."""

import time
from dataclasses import dataclass
from typing import Iterable

from django.db.models import Count
from django.utils import timezone

from eventstore import selectors
from eventstore.events import Checkpoint
from eventstore.models import Event
from eventstore.projections.engine import registered
from eventstore.projections.models import ProjectionCheckpoint, SetAsideEvent

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
    oldest of them."""
    names = list(projection_names) if projection_names is not None else list(registered())
    rows = {row.name: row for row in ProjectionCheckpoint.objects.filter(name__in=names)}
    set_aside = dict(SetAsideEvent.objects.filter(projection__in=names).order_by().values("projection")
                     .annotate(count=Count("id")).values_list("projection", "count"))
    return [_lag_of(name, rows.get(name) or ProjectionCheckpoint(name=name), set_aside.get(name, 0)) for name in names]


def _lag_of(name: str, row: ProjectionCheckpoint, set_aside: int) -> Lag:
    pending = Event.objects.filter(selectors.committed_after(Checkpoint(row.transaction_id, row.position)))
    oldest = pending.order_by("transaction_id", "position").values_list("recorded_at", flat=True).first()
    seconds = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    behind = pending.values("position")[:LAG_COUNT_LIMIT].count()  # bounded: a far-behind projection costs no more
    return Lag(name, behind, max(seconds, 0.0), row.position, row.events_applied, row.failing_position, set_aside)


def wait_until_caught_up(timeout: float, *, poll: float = 0.5) -> dict[str, int]:
    """Wait until no projection is behind (the catch-up loop applies them); what is still behind
    after `timeout` seconds, by projection name (empty when caught up)."""
    deadline = time.monotonic() + timeout
    while True:
        behind = {each.name: each.events_behind for each in lag() if each.events_behind}
        if not behind or time.monotonic() > deadline:
            return behind
        time.sleep(poll)
