"""The analytics pages of the admin: the dashboard (statistics, trend charts and workflow metrics,
beside the store's operations panel from `eventstore.admin.operations`) and the period statement."""

from datetime import datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics import charts
from analytics.exports import record_statement_export
from analytics.selectors import (
    INTERVALS,
    EventQuery,
    InvalidQuery,
    event_statistics,
    event_trend,
    known_event_types,
    time_zone_named,
)
from analytics.statements import (
    FIGURES,
    LABELS,
    Statement,
    opening_events,
    period_statement,
    statement_file_name,
    statement_file_stem,
    statement_json,
    statement_sheets,
)
from analytics.workflow_metrics import workflow_metrics
from eventstore import registry
from eventstore.admin.operations import operations
from eventstore.selectors import BUSINESS, RECORDED
from eventstore.web.admin_base import form_rendering_key
from eventstore.web.exports import download
from eventstore.web.localized import moment_label
from payments.calendar import calendar_of, local_days
from payments.models import Organization
from payments.selectors import visible_organizations

REQUIRED_PERMISSIONS = ("payments.view_paymentsummary", "eventstore.view_event")


INTERVAL_LABELS = {"hour": gettext_lazy("hour"), "day": gettext_lazy("day"), "week": gettext_lazy("week"),
                   "month": gettext_lazy("month")}


class DashboardForm(forms.Form):
    event_type = forms.ChoiceField(choices=[(name, name) for name in known_event_types()],
                                   label=gettext_lazy("Event type"))
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label=gettext_lazy("From"))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label=gettext_lazy("To (inclusive)"))
    interval = forms.ChoiceField(choices=[(name, INTERVAL_LABELS[name]) for name in INTERVALS], initial="day",
                                 label=gettext_lazy("Interval"))
    time_zone = forms.CharField(initial="UTC", max_length=64, label=gettext_lazy("Time zone"))
    time = forms.ChoiceField(choices=[(BUSINESS, gettext_lazy("business date (occurred)")),
                                      (RECORDED, gettext_lazy("recorded date"))],
                             initial=BUSINESS, required=False, label=gettext_lazy("By"))


def _defaults(time_zone: str) -> dict:
    today = timezone.now().astimezone(ZoneInfo(time_zone)).date()
    return {"event_type": known_event_types()[0], "start": (today - timedelta(days=365)).replace(day=1), "end": today,
            "interval": "month", "time_zone": time_zone, "time": BUSINESS}


def dashboard_view(request):
    """Statistics and trends; the operations panel (`operations_view`), which waits on Temporal and
    counts how far projections are behind, is fetched by the page once it shows, so it never holds
    the figures up (without JavaScript the page links to it)."""
    _check_dashboard_permissions(request)
    calendar = calendar_of(visible_organizations(request.user))
    form = DashboardForm(request.GET or _defaults(calendar.time_zone))
    context = {**admin.site.each_context(request), "title": _("Analytics dashboard"), "form": form,
               "calendar": calendar, "operations_url": reverse("admin:analytics_operations")}
    if form.is_valid():
        context.update(_figures(form, registry.organizations_to_search(request.user, None)))
    context["form_key"] = form_rendering_key(form)
    return TemplateResponse(request, "admin/analytics/dashboard.html", context)


def operations_view(request):
    """The dashboard's operations panel: trust and freshness, the deployment's checks, workflows,
    projections, subscriptions and tamper evidence, of what the user may see. `?part=panel` answers
    the panel alone (what the dashboard inserts); otherwise it is an admin page of its own. Temporal's
    answers are kept for DASHBOARD_TEMPORAL_CACHE_SECONDS, so reloading the dashboard does not wait on
    Temporal each time, and a Temporal that is down is a message in the panel."""
    _check_dashboard_permissions(request)
    context = operations(request, temporal_cache_seconds=settings.DASHBOARD_TEMPORAL_CACHE_SECONDS)
    if context["every_organization"]:  # like the API's workflow metrics: for users who see every organization
        context.update(_workflow_metrics())
    if request.GET.get("part") == "panel":
        return TemplateResponse(request, "admin/analytics/operations_panel.html", context)
    return TemplateResponse(request, "admin/analytics/operations.html", {
        **admin.site.each_context(request), "title": _("Operations"), **context})


def _check_dashboard_permissions(request) -> None:
    if not all(request.user.has_perm(permission) for permission in REQUIRED_PERMISSIONS):
        raise PermissionDenied


def _figures(form: DashboardForm, organization_ids: tuple[str, ...] | None) -> dict:
    """Statistics and trends over the organizations the user may see (None: every one)."""
    data = form.cleaned_data
    try:
        zone = time_zone_named(data["time_zone"])
        query = EventQuery(data["event_type"], datetime.combine(data["start"], time(), zone),
                           datetime.combine(data["end"] + timedelta(days=1), time(), zone), organization_ids,
                           time=data["time"] or BUSINESS)
        statistics = event_statistics(query)
        trend = event_trend(query, interval=data["interval"], time_zone=data["time_zone"])
    except InvalidQuery as error:
        form.add_error(None, str(error))
        return {}
    labels = [moment_label(bucket.start, LABEL_FORMATS[data["interval"]]) for bucket in trend.buckets]
    currencies = sorted({currency for bucket in trend.buckets for currency in bucket.totals})
    per = _("per %(interval)s (%(time_zone)s)") % {"interval": INTERVAL_LABELS[data["interval"]],
                                                   "time_zone": data["time_zone"]}
    return {
        "statistics": statistics,
        "time_zone": data["time_zone"],
        "count_chart": charts.bar_chart(f"{data['event_type']} {per}", labels,
                                        [bucket.count for bucket in trend.buckets]),
        "amount_charts": [
            (currency, charts.line_chart(_("%(currency)s amount %(per)s") % {"currency": currency, "per": per}, labels,
                                         {currency: [bucket.totals.get(currency, 0) for bucket in trend.buckets]}))
            for currency in currencies
        ],
    }


LABEL_FORMATS = {"hour": "dd MMM HH:mm", "day": "yyyy-MM-dd", "week": "yyyy-MM-dd", "month": "MMM y"}  # CLDR


def _workflow_metrics() -> dict:
    try:
        return {"metrics": workflow_metrics(), "metrics_error": ""}
    except Exception as error:  # Temporal down must not take the dashboard with it
        return {"metrics": [], "metrics_error": _("Temporal is unreachable: %(error)s") % {"error": error}}


DASHBOARD_PAGE = registry.AdminPage("analytics/dashboard/", dashboard_view, "analytics_dashboard")
OPERATIONS_PAGE = registry.AdminPage("analytics/dashboard/operations/", operations_view, "analytics_operations")


class StatementForm(forms.Form):
    organization = forms.ChoiceField(label=gettext_lazy("Organization"))
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label=gettext_lazy("Occurred from"))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label=gettext_lazy("to (inclusive)"))
    known_at = forms.DateTimeField(required=False, label=gettext_lazy("as known at (UTC)"),
                                   help_text=gettext_lazy("Recorded time, e.g. the month-end close; empty: now."))

    def __init__(self, data, organizations: list[str]):
        super().__init__(data)
        self.fields["organization"].choices = [(organization, organization) for organization in organizations]


EXPLAIN_LIMIT = 500  # events listed behind an opening balance (the newest; the count says how many in all)


def statement_view(request):
    """The period statement, its days cut at the organization's local midnight; printable (its print
    stylesheet leaves only the statement), as CSV and as JSON (what `verify.py --statement` compares).
    `explain=<figure>&currency=<code>` lists the events behind one figure."""
    if not request.user.has_perm("payments.view_paymentsummary"):
        raise PermissionDenied
    visible = visible_organizations(request.user)
    organizations = visible if visible is not None else list(Organization.objects.values_list("id", flat=True))
    form = StatementForm(request.GET or None, sorted(organizations))
    context = {**admin.site.each_context(request), "title": _("Period statement"), "form": form}
    if form.is_valid():
        data = form.cleaned_data
        try:
            statement = _statement(data)
        except InvalidQuery as error:
            form.add_error(None, str(error).replace("'from'", _("the first day")).replace("'to'", _("the last")))
            return TemplateResponse(request, "admin/analytics/statement.html", context)
        requested = request.GET.get("download")
        if requested:
            return _statement_download(request, statement, requested)
        record_statement_export(request, statement, "html")
        zone = ZoneInfo(statement.time_zone)
        context.update({
            "statement": statement, "local_since": statement.since.astimezone(zone),
            "local_until": statement.until.astimezone(zone),
            "query": urlencode({"organization": statement.organization_id, "start": data["start"], "end": data["end"],
                                "known_at": statement.known_at.strftime("%Y-%m-%d %H:%M:%S.%f")}),
            "sections": [(totals, [(figure, LABELS[figure], statement.lines_of(totals.currency, figure))
                                   for figure in FIGURES.values()])
                         for totals in statement.totals],
            **_explained(request, statement),
        })
    return TemplateResponse(request, "admin/analytics/statement.html", context)


def _statement(data: dict) -> Statement:
    """The statement the form asks for, its days cut at the organization's local midnight."""
    organization = Organization.objects.filter(pk=data["organization"]).first()
    zone = organization.time_zone if organization else "UTC"
    since, until = local_days(data["start"], data["end"], ZoneInfo(zone))
    return period_statement(organization_id=data["organization"], since=since, until=until,
                            known_at=data["known_at"] or timezone.now(), time_zone=zone,
                            reporting_currency=organization.reporting_currency if organization else None)


def _statement_download(request, statement: Statement, requested: str):
    """The statement as JSON (what the offline verifier compares), CSV or XLSX; recorded once served."""
    if requested == "json":
        response = HttpResponse(statement_json(statement), content_type="application/json", headers={
            "Content-Disposition": f'attachment; filename="{statement_file_name(statement, "json")}"'})
    else:
        response = download(request, statement_sheets(statement), file_stem=statement_file_stem(statement),
                            stream=False)
    if response.status_code == 200:
        record_statement_export(request, statement, requested)
    return response


def _explained(request, statement) -> dict:
    """The events behind one figure of the statement: ?explain=opening|processed|refunded|cancelled|closing."""
    figure, currency = request.GET.get("explain"), request.GET.get("currency", "")
    totals = next((t for t in statement.totals if t.currency == currency), None)
    if totals is None or figure not in ("opening", "closing", *FIGURES.values()):
        return {}
    if figure == "opening":
        movements = []
    elif figure == "closing":
        movements = [line for line in statement.lines if line.currency == currency]
    else:
        movements = statement.lines_of(currency, figure)
    earlier = opening_events(statement, currency, limit=EXPLAIN_LIMIT) if figure in ("opening", "closing") else []
    return {"explain": {"figure": figure, "figure_label": LABELS[figure], "currency": currency,
                        "value": getattr(totals, figure),
                        "lines": movements, "opening_lines": earlier, "opening_count": totals.opening_events,
                        "opening_shown_all": len(earlier) == totals.opening_events}}


STATEMENT_PAGE = registry.AdminPage("analytics/statement/", statement_view, "analytics_statement")
