"""Reconciliation in the admin: finance staff import a settlement file for one of their
organizations, follow the run's progress, read its summary and findings, resolve a finding with a
note and export the findings. Each page shows only the organizations the user sees."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from eventstore.temporal.connection import TemporalUnavailable
from eventstore.web.actors import actor_of_request
from eventstore.web.exports import download
from payments import selectors as payment_selectors
from payments.models import Organization
from payments.reconciliation import export, selectors, services
from payments.reconciliation.client import AlreadyResolved
from payments.reconciliation.finding_texts import refusal_message
from payments.reconciliation.matching import OUTCOME_LABELS, Outcome
from payments.reconciliation.models import Reconciliation
from payments.reconciliation.settlement_format import AUTO, MAPPINGS, FileRefused

FINDINGS_PER_PAGE = 50
RESOLVE_PERMISSION = "payments.change_finding"


class ImportForm(forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("CSV in UTF-8: native columns, or a Stripe or Adyen report."))
    organization = forms.ModelChoiceField(label=_("Organization"), queryset=Organization.objects.none())
    mapping = forms.ChoiceField(label=_("Column mapping"), choices=[(AUTO, _("Detect from the header"))]
                                + [(name, mapping.title) for name, mapping in MAPPINGS.items()], initial=AUTO)
    period_start = forms.DateField(label=_("Period start"), required=False,
                                   help_text=_("Leave both dates empty to use the file's booking dates."))
    period_end = forms.DateField(label=_("Period end"), required=False)

    def __init__(self, *args, organizations: list[str] | None, **kwargs):
        super().__init__(*args, **kwargs)
        every = Organization.objects.all()
        self.fields["organization"].queryset = every if organizations is None else every.filter(pk__in=organizations)

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if (start is None) != (end is None):
            raise forms.ValidationError(_("Give both dates of the period, or neither."))
        if start and end and start > end:
            raise forms.ValidationError(_("The period starts after it ends."))
        return data


@admin.register(Reconciliation)
class ReconciliationAdmin(admin.ModelAdmin):
    list_display = ("id", "file_name", "organization_id", "period_start", "period_end", "status", "progress_shown",
                    "lines_total", "created_at")
    list_filter = ("status",)
    ordering = ("-created_at",)
    actions = None
    change_form_template = "admin/payments/reconciliation/run.html"
    add_form_template = "admin/payments/reconciliation/import.html"

    def get_queryset(self, request):
        return selectors.reconciliations(payment_selectors.visible_organizations(request.user))

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("progress"))
    def progress_shown(self, run):
        return f"{run.progress:.0%}"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("<path:object_id>/findings.csv", self.admin_site.admin_view(self.export_view),
                 name="%s_%s_findings_export" % info),
            path("<path:object_id>/findings/<int:number>/resolve/", self.admin_site.admin_view(self.resolve_view),
                 name="%s_%s_resolve" % info),
            *super().get_urls(),
        ]

    def get_object(self, request, object_id, from_field=None):
        """By its id, or by its stream's ("reconciliation-7"), as the events admin links to it."""
        number = str(object_id).removeprefix("reconciliation-")
        if not number.isdigit():
            return None
        return self.get_queryset(request).filter(pk=int(number)).first()

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        organizations = payment_selectors.visible_organizations(request.user)
        form = ImportForm(request.POST or None, request.FILES or None, organizations=organizations)
        if request.method == "POST" and form.is_valid():
            answer = self._import(request, form)
            if answer is not None:
                return answer
        return TemplateResponse(request, self.add_form_template, {
            **self.admin_site.each_context(request), "opts": self.opts, "title": gettext("Import a settlement file"),
            "form": form, "mappings": MAPPINGS.values(),
        })

    def _import(self, request, form):
        data = form.cleaned_data
        period = (data["period_start"], data["period_end"]) if data["period_start"] else None
        try:
            imported = services.import_settlement_file(
                organization=data["organization"], upload=data["file"].file, file_name=data["file"].name,
                mapping=data["mapping"], period=period, actor=actor_of_request(request), user=request.user)
        except FileRefused as error:
            form.add_error("file", refusal_message(error))
            return None
        except TemporalUnavailable as error:
            form.add_error(None, gettext("The reconciliation service is unreachable (%(error)s); nothing was stored.")
                           % {"error": error})
            return None
        run = imported.reconciliation
        if not imported.created:
            messages.warning(request, gettext(
                "This file was imported before (SHA-256 %(sha256)s…): here is that run.") % {"sha256": run.sha256[:12]})
        return HttpResponseRedirect(reverse("admin:payments_reconciliation_change", args=[run.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_object(request, object_id)
        if run is None or not self.has_view_permission(request, run):
            raise Http404
        show = request.GET.get("show", "open")
        findings = selectors.findings(run)
        if show == "open":
            findings = findings.filter(resolved_at__isnull=True)
        page = Paginator(findings, FINDINGS_PER_PAGE).get_page(request.GET.get("page"))
        return TemplateResponse(request, self.change_form_template, {
            **self.admin_site.each_context(request), "opts": self.opts, "original": run,
            "title": gettext("Reconciliation %(number)s: %(file)s") % {"number": run.pk, "file": run.file_name},
            "run": run, "page": page, "show": show,
            "summary": _summary_rows(run.summary), "running": run.status not in (
                Reconciliation.Status.COMPLETED, Reconciliation.Status.FAILED),
            "can_resolve": request.user.has_perm(RESOLVE_PERMISSION), "has_view_permission": True,
        })

    def export_view(self, request, object_id):
        run = self.get_object(request, object_id)
        if run is None:
            raise Http404
        return download(request, [export.findings_sheet(selectors.findings(run).iterator())],
                        file_stem=export.file_stem(run.pk))

    def resolve_view(self, request, object_id, number):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm(RESOLVE_PERMISSION):
            raise PermissionDenied
        run = self.get_object(request, object_id)
        finding = selectors.finding(run, number) if run is not None else None
        if finding is None:
            raise Http404
        try:
            services.resolve_finding(finding=finding, note=request.POST.get("note", ""),
                                     actor=actor_of_request(request))
        except (ValueError, AlreadyResolved, TemporalUnavailable) as error:
            messages.error(request, gettext("Finding %(number)s was not resolved: %(error)s")
                           % {"number": number, "error": error})
        else:
            messages.success(request, gettext("Finding %(number)s resolved; the note is recorded with your name.")
                             % {"number": number})
        return HttpResponseRedirect(reverse("admin:payments_reconciliation_change", args=[run.pk]))


def _summary_rows(summary: list[dict]) -> list[dict]:
    return [{**row, "label": gettext(OUTCOME_LABELS[Outcome(row["outcome"])])} for row in summary]
