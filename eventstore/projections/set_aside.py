"""Setting aside an event that a projection cannot apply, so that the projection goes on.

A projection stops at an event its handler raises on (`projections.apply_pending`), and without a
way out it stays stopped until someone changes code. An operator with the permission
`eventstore.set_aside_event` may instead set that event aside for that projection (`manage.py
set_aside_event` or the admin action on projection errors), saying why. The record keeps who, when,
why and the error; the projection passes over the event from then on, marking the read-model rows
that lack it as incomplete (`Projection.set_aside`), and resumes at once. The event itself stays in
the store, unchanged: the projection's next rebuild applies it if it can by then.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from eventstore.models import Event
from eventstore.projections.engine import RunOutcome, apply_pending, checkpoint_row, registered
from eventstore.projections.models import ProjectionError, SetAsideEvent

PERMISSION = "eventstore.set_aside_event"


class SetAsideRefused(Exception):
    """The event cannot be set aside (see the message); nothing was recorded."""


def set_aside(*, projection: str, position: int, reason: str, user) -> tuple[SetAsideEvent, RunOutcome]:
    """Set aside the event at `position`, at which `projection` is stopped, and let the projection go
    on. Returns the record and what the projection then applied.

    Raises PermissionDenied unless `user` holds the permission, SetAsideRefused for an unknown
    projection, a reason left empty, or an event the projection is not stopped at.
    """
    if not user.has_perm(PERMISSION):
        raise PermissionDenied(f"Setting an event aside needs the permission {PERMISSION}.")
    runner = registered().get(projection)
    if runner is None:
        raise SetAsideRefused(f"There is no projection {projection!r}; there are {', '.join(registered())}.")
    reason = (reason or "").strip()
    if not reason:
        raise SetAsideRefused("Say why the event is set aside: the reason is kept with it.")
    with transaction.atomic():
        row = checkpoint_row(projection, wait=True)  # no runner applies events meanwhile
        error = ProjectionError.objects.filter(projection=projection, position=position, resolved_at__isnull=True).first()
        if error is None or row.failing_position != position:
            raise SetAsideRefused(f"Projection {projection} is not stopped at position {position}: only the event a "
                                  "projection is stopped at can be set aside (see projection_status).")
        event = Event.objects.get(position=position)
        now = timezone.now()
        record = SetAsideEvent.objects.create(
            projection=projection, position=position, event_id=event.event_id, stream_id=event.stream_id,
            version=event.version, event_type=event.event_type, error=error.message, reason=reason,
            set_aside_by=user.get_username(), set_aside_at=now,
        )
        error.resolved_at = now
        error.save(update_fields=["resolved_at"])
        row.failing_position = None  # not stopped any more: the next run passes over the event
        row.save()
    return record, apply_pending(runner, wait=True)


def set_aside_events(projection: str | None = None, *, limit: int = 100) -> list[SetAsideEvent]:
    """The events set aside, newest first (of one projection, or of all)."""
    records = SetAsideEvent.objects.all()
    if projection is not None:
        records = records.filter(projection=projection)
    return list(records[:limit])
