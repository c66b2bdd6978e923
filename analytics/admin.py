"""The analytics dashboard, an admin page: statistics, trend charts, workflow metrics, projection lag,
errors and set-aside events, and the last verify_event_chain result."""

from datetime import datetime, time, timedelta

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone

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
from analytics.workflow_metrics import workflow_metrics
from eventstore import registry
from eventstore import subscription_lag
from eventstore.admin import of_visible_streams
from eventstore.models import ChainVerification, ProjectionError, Seal, SetAsideEvent
from eventstore.projection_lag import lag
from payments.selectors import organizations_to_search, visible_organizations

REQUIRED_PERMISSIONS = ("payments.view_paymentsummary", "eventstore.view_event")


class DashboardForm(forms.Form):
    event_type = forms.ChoiceField(choices=[(name, name) for name in known_event_types()])
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="From")
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="To (inclusive)")
    interval = forms.ChoiceField(choices=[(name, name) for name in INTERVALS], initial="day")
    time_zone = forms.CharField(initial="UTC", max_length=64)


def _defaults() -> dict:
    today = timezone.now().date()
    return {"event_type": known_event_types()[0], "start": today - timedelta(days=29), "end": today,
            "interval": "day", "time_zone": "UTC"}


def dashboard_view(request):
    if not all(request.user.has_perm(permission) for permission in REQUIRED_PERMISSIONS):
        raise PermissionDenied
    form = DashboardForm(request.GET or _defaults())
    context = {**admin.site.each_context(request), "title": "Analytics dashboard", "form": form}
    if form.is_valid():
        context.update(_figures(form, organizations_to_search(request.user, None)))
    context.update(_operations(request))
    return TemplateResponse(request, "admin/analytics/dashboard.html", context)


def _figures(form: DashboardForm, organization_ids: tuple[str, ...] | None) -> dict:
    """Statistics and trends over the organizations the user may see (None: every one)."""
    data = form.cleaned_data
    try:
        zone = time_zone_named(data["time_zone"])
        query = EventQuery(data["event_type"], datetime.combine(data["start"], time(), zone),
                           datetime.combine(data["end"] + timedelta(days=1), time(), zone), organization_ids)
        statistics = event_statistics(query)
        trend = event_trend(query, interval=data["interval"], time_zone=data["time_zone"])
    except InvalidQuery as error:
        form.add_error(None, str(error))
        return {}
    labels = [bucket.start.strftime(LABEL_FORMATS[data["interval"]]) for bucket in trend.buckets]
    currencies = sorted({currency for bucket in trend.buckets for currency in bucket.totals})
    per = f"per {data['interval']} ({data['time_zone']})"
    return {
        "statistics": statistics,
        "time_zone": data["time_zone"],
        "count_chart": charts.bar_chart(f"{data['event_type']} {per}", labels,
                                        [bucket.count for bucket in trend.buckets]),
        "amount_charts": [
            (currency, charts.line_chart(f"{currency} amount {per}", labels,
                                         {currency: [bucket.totals.get(currency, 0) for bucket in trend.buckets]}))
            for currency in currencies
        ],
    }


LABEL_FORMATS = {"hour": "%d %b %H:%M", "day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%b %Y"}


def _trust(request) -> dict:
    """How far the figures can be trusted, and how fresh they are: the last verification and seal,
    how far projections are behind, and how many events they passed over (of the user's streams)."""
    lags = lag()
    return {
        "verification": ChainVerification.objects.first(),
        "seal": Seal.objects.order_by("-id").first(),
        "lags": lags,
        "events_behind": sum(each.events_behind for each in lags),
        "seconds_behind": max((each.seconds_behind for each in lags), default=0.0),
        "set_aside_count": of_visible_streams(request, SetAsideEvent.objects.all()).count(),
    }


def _operations(request) -> dict:
    """Workflows, projections and tamper evidence. Members of organizations get what concerns their
    streams and the health of the whole, without figures about other organizations (workflow counts,
    events checked): like the API's workflow metrics, those are for users who see every organization."""
    every_organization = visible_organizations(request.user) is None
    context = {
        "every_organization": every_organization,
        "projection_errors": of_visible_streams(request, ProjectionError.objects.filter(resolved_at__isnull=True))[:20],
        "set_aside": list(of_visible_streams(request, SetAsideEvent.objects.all())[:20]),
        "subscriptions": subscription_lag.lag(organizations=visible_organizations(request.user)),
        **_trust(request),
    }
    if every_organization:
        context.update(_workflow_metrics())
    return context


def _workflow_metrics() -> dict:
    try:
        return {"metrics": workflow_metrics(), "metrics_error": ""}
    except Exception as error:  # Temporal down must not take the dashboard with it
        return {"metrics": [], "metrics_error": f"Temporal is unreachable: {error}"}


DASHBOARD_PAGE = registry.AdminPage("analytics/dashboard/", dashboard_view, "analytics_dashboard")
