"""The analytics pages of the admin: the dashboard (statistics, trend charts and workflow metrics,
beside the store's operations panel from `eventstore.admin.operations`) and the period statement."""

from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics import charts
from analytics.selectors import (
    INTERVALS,
    EventQuery,
    InvalidQuery,
    event_statistics,
    event_trend,
    known_event_types,
    time_zone_named,
)
from analytics.statements import FIGURES, LABELS, period_statement, statement_file_stem, statement_sheets
from analytics.workflow_metrics import workflow_metrics
from eventstore import registry
from eventstore.admin.operations import operations
from eventstore.selectors import BUSINESS, RECORDED
from eventstore.web.exports import download
from eventstore.web.localized import moment_label
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


def _defaults() -> dict:
    today = timezone.now().date()
    return {"event_type": known_event_types()[0], "start": (today - timedelta(days=365)).replace(day=1), "end": today,
            "interval": "month", "time_zone": "UTC", "time": BUSINESS}


def dashboard_view(request):
    if not all(request.user.has_perm(permission) for permission in REQUIRED_PERMISSIONS):
        raise PermissionDenied
    form = DashboardForm(request.GET or _defaults())
    context = {**admin.site.each_context(request), "title": _("Analytics dashboard"), "form": form}
    if form.is_valid():
        context.update(_figures(form, registry.organizations_to_search(request.user, None)))
    context.update(operations(request))
    if context["every_organization"]:  # like the API's workflow metrics: for users who see every organization
        context.update(_workflow_metrics())
    return TemplateResponse(request, "admin/analytics/dashboard.html", context)


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


class StatementForm(forms.Form):
    organization = forms.ChoiceField(label=gettext_lazy("Organization"))
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label=gettext_lazy("Occurred from"))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label=gettext_lazy("to (inclusive)"))
    known_at = forms.DateTimeField(required=False, label=gettext_lazy("as known at (UTC)"),
                                   help_text=gettext_lazy("Recorded time, e.g. the month-end close; empty: now."))

    def __init__(self, data, organizations: list[str]):
        super().__init__(data)
        self.fields["organization"].choices = [(organization, organization) for organization in organizations]


def statement_view(request):
    """The period statement, printable (its print stylesheet leaves only the statement) and as CSV."""
    if not request.user.has_perm("payments.view_paymentsummary"):
        raise PermissionDenied
    visible = visible_organizations(request.user)
    organizations = visible if visible is not None else list(Organization.objects.values_list("id", flat=True))
    form = StatementForm(request.GET or None, sorted(organizations))
    context = {**admin.site.each_context(request), "title": _("Period statement"), "form": form}
    if form.is_valid():
        data = form.cleaned_data
        try:
            statement = period_statement(
                organization_id=data["organization"], since=datetime.combine(data["start"], time(), UTC),
                until=datetime.combine(data["end"] + timedelta(days=1), time(), UTC),
                known_at=data["known_at"] or timezone.now())
        except InvalidQuery as error:
            form.add_error(None, str(error).replace("'from'", _("the first day")).replace("'to'", _("the last")))
            return TemplateResponse(request, "admin/analytics/statement.html", context)
        query = urlencode({"organization": statement.organization_id, "start": data["start"], "end": data["end"],
                           "known_at": statement.known_at.strftime("%Y-%m-%d %H:%M:%S.%f")})
        if request.GET.get("download"):
            return download(request, statement_sheets(statement), file_stem=statement_file_stem(statement),
                            stream=False)
        context.update({"statement": statement, "query": query, "sections": [
            (totals, [(LABELS[figure], statement.lines_of(totals.currency, figure)) for figure in FIGURES.values()])
            for totals in statement.totals]})
    return TemplateResponse(request, "admin/analytics/statement.html", context)


STATEMENT_PAGE = registry.AdminPage("analytics/statement/", statement_view, "analytics_statement")
