"""Admin building blocks for every app: read-only model admins for big tables, exported as streamed CSV
or XLSX (eventstore/web/exports.py)."""

import hashlib
from datetime import datetime

from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.core.cache import cache
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import capfirst, slugify

from eventstore import registry
from eventstore.replica import read_connection
from eventstore.web.export_records import query_filters, record_request_export
from eventstore.web.exports import CSV, XLSX, Label, Sheet, asks_bom, export_response
from eventstore.web.localized import moment_text

EXACT_COUNT_LIMIT = 20_000  # below this many rows (by the estimate) counting them exactly is cheap


def when(moment: datetime | None) -> str:
    """A moment as every admin page shows it: 2026-11-26 11:55:55 UTC, in French 26/11/2026 11:55:55 UTC
    (the FORMAT_MODULE_PATH formats of the reader's language)."""
    if moment is None:
        return ""
    return moment_text(timezone.localtime(moment))


def form_rendering_key(form, *, leave_out: tuple[str, ...] = ()) -> str:
    """What a form's rendering depends on besides the language: its data (less the fields in
    `leave_out`, rendered apart), its errors and its fields' choices. Pages keep a form's rendering
    under it ({% cache %}): each widget, and each option of a select, is a template of its own."""
    data = form.data.lists() if hasattr(form.data, "lists") else form.data.items()
    shown = (sorted((name, value) for name, value in data if name not in leave_out), form.errors.get_json_data(),
             [(name, getattr(field, "choices", None)) for name, field in form.fields.items()])
    return hashlib.sha256(repr(shown).encode()).hexdigest()


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


class ReadOnlyAdmin(admin.ModelAdmin):
    """View only, for everyone (superusers included); no full counts; a CSV or XLSX export of whatever
    the changelist currently shows (filters and search applied), `csv_fields` its columns."""

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
        exports = [path(f"export.{file_format}", self.admin_site.admin_view(self.export_csv),
                        {"file_format": file_format}, name=f"%s_%s_export{suffix}" % info)
                   for file_format, suffix in ((CSV, ""), (XLSX, "_xlsx"))]
        return [*exports, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        info = self.model._meta.app_label, self.model._meta.model_name
        # titled by what it lists ("Events"), not Django's "Select event to view"
        extra_context = {"title": capfirst(self.model._meta.verbose_name_plural), **(extra_context or {}),
                         "export_url": reverse("admin:%s_%s_export" % info),
                         "export_xlsx_url": reverse("admin:%s_%s_export_xlsx" % info)}
        return super().changelist_view(request, extra_context)

    def export_csv(self, request, file_format=CSV):
        """The filtered changelist as CSV (streamed; `?bom=1` for Excel) or XLSX: rows come from a
        server-side cursor, so a million of them take constant memory."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        request.GET = request.GET.copy()
        bom = asks_bom(request.GET.pop("bom", [""])[-1])  # an export option, not a filter
        changelist = self.get_changelist_instance(request)
        rows = changelist.get_queryset(request).values(*self.csv_fields).iterator(chunk_size=2000)
        header = [Label(name, self.column_label(name)) for name in self.csv_header()]
        recorded = self._recorded(request, self.csv_rows(rows), file_format)
        sheet = Sheet(str(capfirst(self.model._meta.verbose_name_plural)), _with_header(header, recorded))
        name = f"{slugify(self.model._meta.verbose_name_plural)}-{timezone.localdate().isoformat()}"
        return export_response([sheet], file_stem=name, file_format=file_format, bom=bom)

    def _recorded(self, request, rows, file_format):
        """The rows, then the export's record (`eventstore.exports`) with the rows that went out: at the
        end of the download, or where the client stopped it."""
        sent, complete = 0, False
        try:
            for row in rows:
                sent += 1
                yield row
            complete = True
        finally:
            record_request_export(request, kind="admin_list", source=self.model._meta.label_lower,
                                  export_format=file_format, filters=query_filters(request.GET), row_count=sent,
                                  organization_ids=registry.visible_organizations(request.user), complete=complete)

    def csv_header(self) -> list[str]:
        """The exported columns' names (CSV's header, the same in every language)."""
        return list(self.csv_fields)

    def column_label(self, name: str) -> str:
        """What XLSX's header calls a column, in the reader's language: the field's verbose name."""
        try:
            return str(capfirst(label_for_field(name, self.model, self)))
        except (AttributeError, FieldDoesNotExist):  # a related lookup or a computed column
            return name.replace("__", " ").replace("_", " ").capitalize()

    def csv_rows(self, rows):
        """The exported rows, one `csv_row` each; admins override it to read rows in batches."""
        return (self.csv_row(row) for row in rows)

    def csv_row(self, row: dict) -> list:
        """One exported row of typed cells (eventstore/web/exports.py) from the values of `csv_fields`;
        admins override it to add or shape columns."""
        return [row[field] for field in self.csv_fields]


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
