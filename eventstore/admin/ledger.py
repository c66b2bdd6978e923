"""The verifiable ledger in the admin: signed tree heads, the audit bundle download for auditors,
and the inclusion proof of one event as a JSON download."""

import json
import tempfile
from pathlib import Path

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse

from eventstore import registry
from eventstore.ledger import service as ledger
from eventstore.ledger.bundle import NothingToExport, export_audit_bundle
from eventstore.ledger.models import TreeHead
from eventstore.ledger.selectors import ledger_indexes
from eventstore.models import Event
from eventstore.web.admin_base import ReadOnlyAdmin

AUDITOR_GROUP = "Auditor"


def is_auditor(user) -> bool:
    return user.is_active and (user.is_superuser or user.groups.filter(name=AUDITOR_GROUP).exists())


@admin.register(TreeHead)
class TreeHeadAdmin(ReadOnlyAdmin):
    list_display = ("tree_size", "timestamp", "root_hash", "streams_root", "public_key")
    ordering = ("-tree_size",)
    actions = ["download_audit_bundle"]
    csv_fields = ("tree_size", "timestamp", "root_hash", "streams_root", "signature", "public_key")

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or is_auditor(request.user)

    def has_module_permission(self, request):
        return super().has_module_permission(request) or is_auditor(request.user)

    def has_audit_permission(self, request) -> bool:
        return is_auditor(request.user)

    @admin.action(description="Download an audit bundle of the whole ledger (newest head)", permissions=["audit"])
    def download_audit_bundle(self, request, queryset):
        with tempfile.TemporaryDirectory() as directory:
            out = Path(directory) / "audit-bundle.zip"
            try:
                export_audit_bundle(out)
            except NothingToExport as error:
                self.message_user(request, str(error), messages.ERROR)
                return None
            content = out.read_bytes()
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="audit-bundle.zip"'
        return response


def ledger_proof_view(request, position: int):
    """The inclusion proof of one event in the first signed head that holds it, as a JSON download."""
    if not request.user.has_perm("eventstore.view_event"):
        raise PermissionDenied
    event = Event.objects.filter(position=position).values("event_id", "stream_id", "version", "hash", "metadata").first()
    visible = registry.visible_organizations(request.user)
    if event is not None and visible is not None and event["metadata"].get("organization_id") not in visible:
        event = None  # another organization's event: as if there were none
    index = ledger_indexes([position])[position]
    head = None if index is None else ledger.head_covering(index)
    if event is None or head is None:
        raise Http404("No signed head holds this event yet.")
    document = {
        "event_id": str(event["event_id"]), "stream_id": event["stream_id"], "version": event["version"],
        "hash": event["hash"], "leaf_index": index, "tree_size": head.tree_size,
        "audit_path": [node.hex() for node in ledger.inclusion_proofs([index], head.tree_size)[index]],
        "head": ledger.head_document(head),
    }
    response = HttpResponse(json.dumps(document, indent=2) + "\n", content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="proof-{event["stream_id"]}-v{event["version"]}.json"'
    return response


LEDGER_PROOF_PAGE = registry.AdminPage("ledger/proof/<int:position>/", ledger_proof_view, "ledger_proof")
