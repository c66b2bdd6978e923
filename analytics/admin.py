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
from eventstore.models import ChainVerification, ProjectionError
from eventstore import subscription_lag
from eventstore.projection_lag import lag
from eventstore.projection_set_aside import set_aside_events

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
        context.update(_figures(form))
    context.update(_operations())
    context["subscriptions"] = subscription_lag.lag()
    return TemplateResponse(request, "admin/analytics/dashboard.html", context)


def _figures(form: DashboardForm) -> dict:
    data = form.cleaned_data
    try:
        zone = time_zone_named(data["time_zone"])
        query = EventQuery(data["event_type"], datetime.combine(data["start"], time(), zone),
                           datetime.combine(data["end"] + timedelta(days=1), time(), zone))
        statistics = event_statistics(query)
        trend = event_trend(query, interval=data["interval"], time_zone=data["time_zone"])
    except InvalidQuery as error:
        form.add_error(None, str(error))
        return {}
    labels = [bucket.start.strftime("%Y-%m-%d %H:%M" if data["interval"] == "hour" else "%Y-%m-%d") for bucket in trend.buckets]
    currencies = sorted({currency for bucket in trend.buckets for currency in bucket.totals})
    return {
        "statistics": statistics,
        "count_chart": charts.bar_chart(f"{data['event_type']} per {data['interval']}", labels,
                                        [bucket.count for bucket in trend.buckets]),
        "amount_charts": [
            (currency, charts.line_chart(f"{currency} amount per {data['interval']}", labels,
                                         {currency: [bucket.totals.get(currency, 0) for bucket in trend.buckets]}))
            for currency in currencies
        ],
    }


def _operations() -> dict:
    try:
        metrics, metrics_error = workflow_metrics(), ""
    except Exception as error:  # Temporal down must not take the dashboard with it
        metrics, metrics_error = [], f"Temporal is unreachable: {error}"
    return {
        "metrics": metrics,
        "metrics_error": metrics_error,
        "lags": lag(),
        "projection_errors": ProjectionError.objects.filter(resolved_at__isnull=True)[:20],
        "set_aside": set_aside_events(limit=20),
        "verification": ChainVerification.objects.first(),
    }


DASHBOARD_PAGE = registry.AdminPage("analytics/dashboard/", dashboard_view, "analytics_dashboard")
