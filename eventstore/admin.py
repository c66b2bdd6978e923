"""Read-only admin for the event store: nobody, superusers included, may add, change or delete."""

import json
import uuid

from django.contrib import admin
from django.db.models.fields.json import KT
from django.urls import reverse
from django.utils.html import format_html

from config.admin_tools import ReadOnlyAdmin
from eventstore.models import ChainVerification, Event, ProjectionCheckpoint, ProjectionError, Seal, Stream


def pretty_json(value) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))


def timeline_link(correlation_id: str):
    if not correlation_id:
        return ""
    return format_html('<a href="{}">{}</a>', reverse("admin:timeline", args=[correlation_id]), correlation_id)


def stream_link(event: Event):
    if event.aggregate_type != "Payment":
        return event.stream_id
    url = reverse("admin:payments_paymentsummary_change", args=[event.stream_id])
    return format_html('<a href="{}">{}</a>', url, event.stream_id)


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("position", "recorded_at", "stream", "version", "event_type", "aggregate_type", "correlation")
    list_filter = ("event_type", "aggregate_type", ("recorded_at", admin.DateFieldListFilter))
    search_fields = ("stream_id",)
    search_help_text = "An exact stream id, event id or correlation id."
    ordering = ("-position",)
    csv_fields = ("position", "event_id", "stream_id", "aggregate_type", "version", "event_type", "recorded_at",
                  "data", "metadata", "hash")
    fields = (
        "position", "event_id", "stream", "aggregate_type", "version", "event_type", "recorded_at",
        "correlation", "formatted_data", "formatted_metadata", "transaction_id", "prev_hash", "hash",
    )
    readonly_fields = fields

    @admin.display(description="stream", ordering="stream_id")
    def stream(self, event):
        return stream_link(event)

    @admin.display(description="correlation id")
    def correlation(self, event):
        return timeline_link(event.metadata.get("correlation_id", ""))

    @admin.display(description="data")
    def formatted_data(self, event):
        return pretty_json(event.data)

    @admin.display(description="metadata")
    def formatted_metadata(self, event):
        return pretty_json(event.metadata)

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


@admin.register(Seal)
class SealAdmin(ReadOnlyAdmin):
    list_display = ("id", "sealed_at", "event_count", "hash")
    ordering = ("-id",)
    csv_fields = ("id", "sealed_at", "event_count", "transaction_horizon", "events_digest", "hash")


@admin.register(ChainVerification)
class ChainVerificationAdmin(ReadOnlyAdmin):
    list_display = ("ran_at", "ok", "events_checked", "streams_checked", "problem_count", "seal_hash")
    list_filter = ("ok",)
    csv_fields = ("ran_at", "ok", "events_checked", "streams_checked", "problem_count", "seal_hash")


@admin.register(ProjectionCheckpoint)
class ProjectionCheckpointAdmin(ReadOnlyAdmin):
    list_display = ("name", "position", "events_applied", "last_recorded_at", "failing_position", "updated_at")
    csv_fields = ("name", "transaction_id", "position", "events_applied", "failing_position", "updated_at")


@admin.register(ProjectionError)
class ProjectionErrorAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "projection", "stream_id", "event_type", "position", "attempts", "resolved_at", "message")
    list_filter = ("projection", ("resolved_at", admin.EmptyFieldListFilter))
    csv_fields = ("occurred_at", "projection", "position", "event_id", "stream_id", "event_type", "message",
                  "attempts", "resolved_at")
