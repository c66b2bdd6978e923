"""Admin building blocks for every app: read-only model admins for big tables, streamed CSV."""

import csv
import hashlib
import json
from datetime import date, datetime

from django.contrib import admin
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import capfirst, slugify

from eventstore import registry
from eventstore.replica import read_connection
from eventstore.web.exports import query_filters, record_request_export

EXACT_COUNT_LIMIT = 20_000  # below this many rows (by the estimate) counting them exactly is cheap


def when(moment: datetime | None) -> str:
    """A moment as every admin page shows it: 2026-11-26 11:55:55 UTC (the FORMAT_MODULE_PATH format)."""
    if moment is None:
        return ""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z")


def csv_value(value) -> str:
    """One CSV cell: JSON for data and metadata, ISO 8601 for moments, the plain text otherwise."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


class EstimatedCountPaginator(Paginator):
    """Uses PostgreSQL's row estimate for an unfiltered big table instead of COUNT(*) over millions of
    rows; `estimated` says which it is, so pages can say "about" (admin/pagination.html)."""

    estimated = False

    @cached_property
    def count(self):
        query = self.object_list.query
        if query.where:
            return super().count
        with read_connection().cursor() as cursor:
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [query.model._meta.db_table])
            estimate = cursor.fetchone()[0]
        if not estimate or estimate < EXACT_COUNT_LIMIT:
            return super().count
        self.estimated = True
        return estimate


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
        # titled by what it lists ("Events"), not Django's "Select event to view"
        extra_context = {"title": capfirst(self.model._meta.verbose_name_plural),
                         **(extra_context or {}), "export_url": reverse("admin:%s_%s_export" % info)}
        return super().changelist_view(request, extra_context)

    def export_csv(self, request):
        """Stream the filtered changelist as CSV: rows come from a server-side cursor, so a million
        of them take constant memory."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        rows = changelist.get_queryset(request).values(*self.csv_fields).iterator(chunk_size=2000)
        writer = csv.writer(_Echo())
        header = self.csv_header()
        lines = (writer.writerow(row) for row in _with_header(header, (self.csv_row(row) for row in rows)))
        name = f"{slugify(self.model._meta.verbose_name_plural)}-{timezone.localdate().isoformat()}.csv"
        return StreamingHttpResponse(self._recorded(request, lines), content_type="text/csv; charset=utf-8",
                                     headers={"Content-Disposition": f'attachment; filename="{name}"'})

    def _recorded(self, request, lines):
        """The lines, then the export's record (`eventstore.exports`) with the rows that went out: at the
        end of the download, or where the client stopped it."""
        sent, complete = -1, False  # the header is no row
        try:
            for line in lines:
                sent += 1
                yield line
            complete = True
        finally:
            record_request_export(request, kind="admin_list", source=self.model._meta.label_lower, export_format="csv",
                                  filters=query_filters(request.GET), row_count=max(sent, 0),
                                  organization_ids=registry.visible_organizations(request.user), complete=complete)

    def csv_header(self) -> list[str]:
        return list(self.csv_fields)

    def csv_row(self, row: dict) -> list[str]:
        """One exported row from the values of `csv_fields`; admins override it to add or shape columns."""
        return [csv_value(row[field]) for field in self.csv_fields]


def _with_header(header, rows):
    yield header
    yield from rows


class CachedValuesFilter(admin.AllValuesFieldListFilter):
    """The distinct values of a column, remembered for a few minutes: finding them reads the whole
    index, which is too slow to do on every page of a big table."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        key = f"admin:values:{model._meta.label}:{field_path}:{query_digest(self.lookup_choices)}"
        values = cache.get(key)
        if values is None:
            values = list(self.lookup_choices)
            cache.set(key, values, timeout=300)
        self.lookup_choices = values


def query_digest(queryset) -> str:
    """A short digest of the SQL a queryset runs: whose rows it reads. Compiled without eliding empty
    conditions, so that a query that can match no row (`organization_id IN ()` for a user of no
    organization) has SQL too ("WHERE 0 = 1"), where `str(queryset.query)` raises EmptyResultSet."""
    sql, params = queryset.query.get_compiler(queryset.db, elide_empty=False).as_sql()
    return hashlib.sha256(repr((sql, params)).encode()).hexdigest()[:16]
