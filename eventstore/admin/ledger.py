"""The verifiable ledger in the admin: signed tree heads, the audit bundle download for auditors,
and the inclusion proof of one event as a JSON download."""

import json
import tempfile
from pathlib import Path

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from eventstore import registry, selectors
from eventstore.ledger import proofs
from eventstore.ledger.bundle import NothingToExport, export_audit_bundle
from eventstore.ledger.models import TreeHead
from eventstore.web.admin_base import ReadOnlyAdmin
from eventstore.web.export_records import record_request_export

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

    @admin.action(description=gettext_lazy("Download an audit bundle of the whole ledger (newest head)"),
                  permissions=["audit"])
    def download_audit_bundle(self, request, queryset):
        with tempfile.TemporaryDirectory() as directory:
            out = Path(directory) / "audit-bundle.zip"
            try:
                manifest = export_audit_bundle(out)
            except NothingToExport as error:
                self.message_user(request, str(error), messages.ERROR)
                return None
            content = out.read_bytes()
        record_bundle_export(request, manifest)
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="audit-bundle.zip"'
        return response


def record_bundle_export(request, manifest: dict) -> None:
    record_request_export(request, kind="audit_bundle", source="ledger", export_format="zip",
                          filters={"tree_size": manifest["tree_size"], **manifest["selection"]},
                          row_count=manifest["event_count"], organization_ids=None)


def ledger_proof_view(request, position: int):
    """The inclusion proof of one event as a JSON download, in the head `?tree_size=` names (the
    payment page links the first signed head that holds the event), else the newest."""
    if not request.user.has_perm("eventstore.view_event"):
        raise PermissionDenied
    try:
        proof = proofs.inclusion_proof(selectors.event_at(position),
                                       organization_ids=registry.visible_organizations(request.user),
                                       tree_size=_requested_tree_size(request))
    except proofs.ProofRefused:
        raise Http404(_("No signed head holds this event yet.")) from None
    event = proof.event
    response = HttpResponse(json.dumps(proof.document_with_event(), indent=2) + "\n", content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="proof-{event.stream_id}-v{event.version}.json"'
    return response


def _requested_tree_size(request) -> int | None:
    text = request.GET.get("tree_size", "")
    if not text:
        return None
    if not text.isascii() or not text.isdigit():
        raise Http404(_("No signed head has this size."))
    return int(text)


LEDGER_PROOF_PAGE = registry.AdminPage("ledger/proof/<int:position>/", ledger_proof_view, "ledger_proof")
