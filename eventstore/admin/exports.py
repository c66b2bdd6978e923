"""Data exports in the admin: who took what out of the trail (`eventstore.exports`), for auditors
(the "Auditor" group holds `eventstore.view_dataexport`) and superusers. Read-only, like every list
of the store; the rows are the `DataExported` events themselves."""

from django.contrib import admin
from django.utils.translation import gettext, gettext_lazy

from eventstore.admin.events import pretty_json
from eventstore.models import DataExport
from eventstore.web.admin_base import ReadOnlyAdmin


@admin.register(DataExport)
class DataExportAdmin(ReadOnlyAdmin):
    list_display = ("recorded_at", "exported_by", "credential", "channel", "kind", "source", "export_format",
                    "rows", "organizations", "filters")
    list_filter = (("recorded_at", admin.DateFieldListFilter),)
    search_fields = ("stream_id",)
    search_help_text = gettext_lazy("An export's stream id (data-export-...).")
    ordering = ("-position",)
    csv_fields = ("position", "event_id", "stream_id", "recorded_at", "data", "metadata", "hash")
    fields = ("position", "stream_id", "recorded_at", "exported_by", "credential", "channel", "kind", "source",
              "export_format", "rows", "complete", "organizations", "shown_filters", "hash")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("by"))
    def exported_by(self, export):
        actor = export.metadata.get("actor") or {}
        return actor.get("name") or actor.get("id", "")

    @admin.display(description=gettext_lazy("credential"))
    def credential(self, export):
        return (export.metadata.get("actor") or {}).get("credential", "")

    @admin.display(description=gettext_lazy("channel"))
    def channel(self, export):
        return (export.metadata.get("actor") or {}).get("channel", "")

    @admin.display(description=gettext_lazy("kind"))
    def kind(self, export):
        return export.data.get("kind", "")

    @admin.display(description=gettext_lazy("source"))
    def source(self, export):
        return export.data.get("source", "")

    @admin.display(description=gettext_lazy("format"))
    def export_format(self, export):
        return export.data.get("format", "")

    @admin.display(description=gettext_lazy("rows"))
    def rows(self, export):
        return export.data.get("row_count")

    @admin.display(description=gettext_lazy("complete"), boolean=True)
    def complete(self, export):
        return export.data.get("complete")

    @admin.display(description=gettext_lazy("organizations"))
    def organizations(self, export):
        if export.data.get("every_organization"):
            return gettext("every organization")
        return ", ".join(export.data.get("organizations", []))

    @admin.display(description=gettext_lazy("filters"))
    def filters(self, export):
        return "; ".join(f"{name}={value}" for name, value in export.data.get("filters", {}).items())

    @admin.display(description=gettext_lazy("filters"))
    def shown_filters(self, export):
        return pretty_json(export.data.get("filters", {}))
