"""The events and streams in the admin, read-only like every table of the store, and the store's
own page: a correlation timeline, every event sharing a correlation id across streams on a time axis.

Events link to the page of the stream they belong to when its app declared one
(`eventstore.registry`); every list shows only the organizations the user may see.
"""

import json
import uuid
from datetime import datetime
from itertools import islice

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models.fields.json import KT
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from eventstore import registry, selectors
from eventstore.admin.erasure import PERMISSION as ERASE_PERMISSION
from eventstore.admin.erasure import erase_selected_streams
from eventstore.events import RecordedEvent
from eventstore.models import Event, Stream
from eventstore.personal_data import KeyRing
from eventstore.upcasting import stored_schema_version, upcast_data, upcast_metadata
from eventstore.web.actors import described
from eventstore.web.admin_base import ReadOnlyAdmin


def pretty_json(value) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))


def timeline_link(correlation_id: str):
    if not correlation_id:
        return ""
    return format_html('<a href="{}">{}</a>', reverse("admin:timeline", args=[correlation_id]), correlation_id)


def visible_events(request, events):
    """Only the events of organizations the user may see (`registry.visible_organizations`)."""
    organizations = registry.visible_organizations(request.user)
    if organizations is None:
        return events
    return events.alias(organization=KT("metadata__organization_id")).filter(organization__in=organizations)


def of_visible_streams(request, rows):
    """Only the rows (with a stream_id) of streams whose events the user may see."""
    if registry.visible_organizations(request.user) is None:
        return rows
    return rows.filter(stream_id__in=visible_events(request, Event.objects.all()).values("stream_id"))


def stream_url(event: Event | RecordedEvent) -> str | None:
    """The admin page of the event's stream, when the app of its aggregate type declared one."""
    url_name = registry.stream_admin_url(event.aggregate_type)
    return reverse(url_name, args=[event.stream_id]) if url_name else None


def stream_link(event: Event):
    url = stream_url(event)
    return format_html('<a href="{}">{}</a>', url, event.stream_id) if url else event.stream_id


CSV_BATCH = 500


def opened_values(event: Event) -> tuple[dict, dict]:
    """The event's data and metadata with personal fields opened (eventstore.personal_data), once per
    page: both fields of the change page share the lookup."""
    if not hasattr(event, "_opened_values"):
        event._opened_values = KeyRing().opened(str(event.event_id), event.data, event.metadata)
    return event._opened_values


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("position", "recorded_at", "stream", "version", "event_type", "aggregate_type", "correlation")
    list_filter = ("event_type", "aggregate_type", ("recorded_at", admin.DateFieldListFilter))
    search_fields = ("stream_id",)
    search_help_text = gettext_lazy("An exact stream id, event id or correlation id.")
    ordering = ("-position",)
    csv_fields = ("position", "event_id", "stream_id", "aggregate_type", "version", "event_type", "recorded_at",
                  "data", "metadata", "hash")

    def csv_header(self) -> list[str]:
        header = super().csv_header()
        after = header.index("recorded_at") + 1
        return [*header[:after], "occurred_at", *header[after:]]

    def csv_rows(self, rows):
        """Rows in batches of CSV_BATCH, each batch's personal fields opened with one key lookup."""
        rows = iter(rows)
        while batch := list(islice(rows, CSV_BATCH)):
            ring = KeyRing()
            ring.load_for(part for row in batch for part in (row["data"], row["metadata"]))
            for row in batch:
                data, metadata = ring.opened(str(row["event_id"]), row["data"], row["metadata"])
                yield self.csv_row({**row, "data": data, "metadata": metadata})

    def csv_row(self, row: dict) -> list:
        """Both times: recorded_at (the store's clock) and occurred_at (business time); the data as it is
        read everywhere (personal fields opened by `csv_rows`, upcast), beside `hash`, which is that of
        the event as stored."""
        row = {**row, "data": upcast_data(row["event_type"], row["metadata"], row["data"], row["recorded_at"])}
        cells = super().csv_row(row)
        after = self.csv_fields.index("recorded_at") + 1
        occurred = row["data"].get("occurred_at", "")
        moment = parse_datetime(occurred) if isinstance(occurred, str) else None
        return [*cells[:after], moment or str(occurred), *cells[after:]]

    fields = (
        "position", "event_id", "stream", "aggregate_type", "version", "event_type", "recorded_at",
        "correlation", "actor", "formatted_data", "formatted_metadata", "transaction_id", "prev_hash", "hash",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return visible_events(request, super().get_queryset(request))

    @admin.display(description=gettext_lazy("stream"), ordering="stream_id")
    def stream(self, event):
        return stream_link(event)

    @admin.display(description=gettext_lazy("correlation id"))
    def correlation(self, event):
        return timeline_link(event.metadata.get("correlation_id", ""))

    @admin.display(description=gettext_lazy("who"))
    def actor(self, event):
        name, how = described(upcast_metadata(event.metadata).get("actor"))
        return format_html("{} ({})", name, how) if how else name

    @admin.display(description=gettext_lazy("data"))
    def formatted_data(self, event):
        """The data as read (personal fields opened, upcast to the newest schema version), and as stored
        when that differs: the hash covers the stored data."""
        opened, metadata = opened_values(event)
        data = upcast_data(event.event_type, metadata, opened, event.recorded_at)
        if data is event.data:
            return pretty_json(data)
        as_stored = _("As stored (schema version %(version)s, which the hash covers):") % {
            "version": stored_schema_version(event.metadata)}
        return format_html("{}<p>{}</p>{}", pretty_json(data), as_stored, pretty_json(event.data))

    @admin.display(description=gettext_lazy("metadata"))
    def formatted_metadata(self, event):
        return pretty_json(opened_values(event)[1])

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(event_id=uuid.UUID(term)), False
        except ValueError:
            pass
        by_stream = queryset.filter(stream_id=term)
        by_correlation = queryset.alias(correlation=KT("metadata__correlation_id")).filter(correlation=term)
        return by_stream | by_correlation, False


@admin.register(Stream)
class StreamAdmin(ReadOnlyAdmin):
    list_display = ("stream_id", "aggregate_type", "version", "updated_at", "head_position")
    list_filter = ("aggregate_type",)
    search_fields = ("=stream_id",)
    ordering = ("stream_id",)
    csv_fields = ("stream_id", "aggregate_type", "version", "updated_at", "head_position", "head_hash")
    actions = ["erase_personal_data"]

    def get_queryset(self, request):
        return of_visible_streams(request, super().get_queryset(request))

    def has_erase_personal_data_permission(self, request) -> bool:
        return request.user.has_perm(ERASE_PERMISSION)

    @admin.action(permissions=["erase_personal_data"],
                  description=gettext_lazy("Erase personal data (destroys the streams' keys)"))
    def erase_personal_data(self, request, queryset):
        return erase_selected_streams(self, request, queryset)


def timeline_view(request, correlation_id: str):
    """Every event sharing a correlation id, across streams, on a time axis."""
    if not request.user.has_perm("eventstore.view_event"):
        raise PermissionDenied
    organizations = registry.visible_organizations(request.user)
    events = [event for event in selectors.events_by_correlation(correlation_id)
              if organizations is None or event.metadata.get("organization_id") in organizations]
    if not events:
        raise Http404(_("No event carries this correlation id."))
    context = {
        **admin.site.each_context(request),
        "title": _("Timeline of %(correlation_id)s") % {"correlation_id": correlation_id},
        "correlation_id": correlation_id,
        "events": events,
        "rows": [(event, stream_url(event)) for event in events],
        "marks": list(zip(events, time_axis([event.recorded_at for event in events]))),
    }
    return TemplateResponse(request, "admin/eventstore/timeline.html", context)


def time_axis(moments: list[datetime]) -> list[float]:
    """Each moment's place on the axis, 0 to 100 percent of the span from the first to the last."""
    first, last = min(moments), max(moments)
    span = (last - first).total_seconds() or 1
    return [100 * (moment - first).total_seconds() / span for moment in moments]


TIMELINE_PAGE = registry.AdminPage("timeline/<str:correlation_id>/", timeline_view, "timeline")

