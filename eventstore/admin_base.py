"""Admin building blocks for every app: read-only model admins for big tables, streamed CSV."""

import csv

from django.contrib import admin
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.http import StreamingHttpResponse
from django.urls import path, reverse
from django.utils.functional import cached_property


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


class _Echo:
    def write(self, value):
        return value


class ReadOnlyAdmin(admin.ModelAdmin):
    """View only, for everyone (superusers included); no full counts; a streamed CSV export of
    whatever the changelist currently shows (filters and search applied)."""

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    actions = None
    csv_fields: tuple[str, ...] = ()
    change_list_template = "admin/read_only_change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        export = path("export.csv", self.admin_site.admin_view(self.export_csv), name="%s_%s_export" % info)
        return [export, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        info = self.model._meta.app_label, self.model._meta.model_name
        extra_context = {**(extra_context or {}), "export_url": reverse("admin:%s_%s_export" % info)}
        return super().changelist_view(request, extra_context)

    def csv_rows(self, queryset):
        """The exported values of each row, in `csv_fields` order."""
        return queryset.values_list(*self.csv_fields).iterator(chunk_size=2000)

    def export_csv(self, request):
        """Stream the filtered changelist as CSV: rows come from a server-side cursor, so a million
        of them take constant memory."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        rows = self.csv_rows(changelist.get_queryset(request))
        writer = csv.writer(_Echo())
        lines = (writer.writerow(row) for row in _with_header(self.csv_fields, rows))
        name = self.model._meta.model_name
        return StreamingHttpResponse(lines, content_type="text/csv",
                                     headers={"Content-Disposition": f'attachment; filename="{name}s.csv"'})


def _with_header(fields, rows):
    yield fields
    yield from rows


class CachedValuesFilter(admin.AllValuesFieldListFilter):
    """The distinct values of a column, remembered for a few minutes: finding them reads the whole
    index, which is too slow to do on every page of a big table."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        key = f"admin:values:{model._meta.label}:{field_path}"
        values = cache.get(key)
        if values is None:
            values = list(self.lookup_choices)
            cache.set(key, values, timeout=300)
        self.lookup_choices = values
