"""Read-only admin for the event store: nobody, superusers included, may add, change or delete."""

import json
import uuid

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.db.models.fields.json import KT
from django.utils.functional import cached_property
from django.utils.html import format_html

from eventstore.models import Event, Seal, Stream


class EstimatedCountPaginator(Paginator):
    """Uses PostgreSQL's row estimate for an unfiltered table instead of COUNT(*) over millions of rows."""

    @cached_property
    def count(self):
        query = self.object_list.query
        if query.where:
            return super().count
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [query.model._meta.db_table])
            estimate = cursor.fetchone()[0]
        return estimate if estimate and estimate > 0 else super().count


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def pretty_json(value) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("position", "recorded_at", "stream_id", "version", "event_type", "aggregate_type", "correlation_id")
    list_filter = ("event_type", "aggregate_type", ("recorded_at", admin.DateFieldListFilter))
    search_fields = ("stream_id",)
    search_help_text = "An exact stream id, event id or correlation id."
    date_hierarchy = None
    ordering = ("-position",)
    fields = (
        "position", "event_id", "stream_id", "aggregate_type", "version", "event_type", "recorded_at",
        "formatted_data", "formatted_metadata", "transaction_id", "prev_hash", "hash",
    )
    readonly_fields = fields

    @admin.display(description="correlation id")
    def correlation_id(self, event):
        return event.metadata.get("correlation_id", "")

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


@admin.register(Seal)
class SealAdmin(ReadOnlyAdmin):
    list_display = ("id", "sealed_at", "event_count", "hash")
    ordering = ("-id",)
