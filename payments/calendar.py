"""The organizations' calendars, read: which time zone a page or an export cuts days and months in,
and the instants that start a local day or month there.

A local midnight is an instant found through the zone database (`datetime.combine(day, time(), zone)`),
never "UTC midnight plus an offset": in Europe/Paris 2026-03-29 lasts 23 hours and 2026-10-25 25
hours, and a day's or month's bounds follow.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from payments.models import Organization


@dataclass(frozen=True)
class Calendar:
    time_zone: str
    note: str = ""  # why this zone, when the page covers organizations of several zones

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def organization_calendar(organization_id: str) -> Calendar:
    """The organization's time zone (UTC for an organization not in the table)."""
    zone = Organization.objects.filter(pk=organization_id).values_list("time_zone", flat=True).first()
    return Calendar(zone or "UTC")


def with_time_zone(summaries: QuerySet) -> QuerySet:
    """Payment summaries, each with its organization's time zone as `organization_time_zone` (None for an
    organization not in the table): read with the payment, not after it."""
    zone = Organization.objects.filter(pk=OuterRef("organization_id")).values("time_zone")[:1]
    return summaries.annotate(organization_time_zone=Subquery(zone))


def calendar_of(organization_ids: list[str] | None) -> Calendar:
    """The zone of a page covering `organization_ids` (None: every organization): theirs when they share
    one, else UTC, with a note saying so."""
    organizations = Organization.objects.all()
    if organization_ids is not None:
        organizations = organizations.filter(pk__in=organization_ids)
    zones = sorted(set(organizations.values_list("time_zone", flat=True)))
    if len(zones) == 1:
        return Calendar(zones[0])
    if not zones:
        return Calendar("UTC")
    return Calendar("UTC", _("Days are cut at midnight UTC: the organizations shown keep %(count)s time zones "
                             "(%(zones)s).") % {"count": len(zones), "zones": ", ".join(zones)})


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant `day` starts in `zone`, in UTC."""
    return datetime.combine(day, time(), zone).astimezone(UTC)


def local_days(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start of `first`, start of the day after `last`) in `zone`."""
    return local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone)


def month_of(day: date) -> tuple[date, date]:
    """The first and last day of `day`'s month."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def local_today(zone: ZoneInfo, now: datetime) -> date:
    return now.astimezone(zone).date()
