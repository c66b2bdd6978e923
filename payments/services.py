"""Writes of the payments app outside the command workflows: an organization's calendar, changed by
finance staff in the admin, recorded as an `OrganizationCalendarChanged` event in the same
transaction as the row it changes (the event is the change; the row follows it)."""

from eventstore.actors import Actor
from eventstore.events import ANY, NewEvent
from eventstore.store import append_events
from payments.event_schemas import ORGANIZATION_AGGREGATE_TYPE, ORGANIZATION_CALENDAR_CHANGED
from payments.models import Organization

STREAM_PREFIX = "organization-"


def organization_stream(organization_id: str) -> str:
    return STREAM_PREFIX + organization_id


def change_organization_calendar(*, organization: Organization, previous: dict | None, actor: Actor) -> bool:
    """Save `organization` (validated by the caller) and, when its time zone or reporting currency is
    new or changed from `previous` ({"time_zone", "reporting_currency"}; None for a new organization),
    record the change with `actor`. Whether an event was recorded."""
    calendar = {"time_zone": organization.time_zone, "reporting_currency": organization.reporting_currency}
    if previous == calendar:
        organization.save()
        return False
    data = {"organization_id": organization.pk, **calendar, **({"previous": previous} if previous else {})}
    append_events(
        stream_id=organization_stream(organization.pk), aggregate_type=ORGANIZATION_AGGREGATE_TYPE,
        events=[NewEvent(ORGANIZATION_CALENDAR_CHANGED, data, {"organization_id": organization.pk})],
        expected_version=ANY, with_append=lambda _: organization.save(), actor=actor,
    )
    return True
