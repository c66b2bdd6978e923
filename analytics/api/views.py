"""Statistics, trends and workflow metrics. Reads go straight to the selectors, scoped to the caller."""

from datetime import UTC, timedelta
from zoneinfo import available_timezones

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.exports import record_statement_export
from analytics.selectors import (
    INTERVALS,
    MAX_BUCKETS,
    EventQuery,
    InvalidQuery,
    event_statistics,
    event_trend,
    known_event_types,
)
from analytics.statements import (
    FIGURES,
    Statement,
    period_statement,
    statement_file_name,
    statement_file_stem,
    statement_json,
    statement_sheets,
)
from analytics.workflow_metrics import workflow_metrics
from eventstore import registry
from eventstore.selectors import BUSINESS, TIME_AXES
from eventstore.temporal.connection import TemporalUnavailable
from eventstore.web.errors import ServiceUnavailable
from eventstore.web.exports import CONTENT_TYPES, XLSX, export_response
from eventstore.web.query_fields import RangeBound, TextFilter, TimeRangeQuery
from payments.calendar import calendar_of
from payments.domain import ID_PATTERN
from payments.models import Organization
from payments.selectors import visible_organizations

# IANA names (Area/Location, and UTC) that both Python and PostgreSQL know.
TIME_ZONES = sorted(name for name in available_timezones() if "/" in name or name == "UTC")


@extend_schema_field({"type": "string", "enum": TIME_ZONES, "default": "UTC"})
class TimeZoneField(serializers.CharField):
    """Any IANA time zone name; the schema lists them."""


class AnalyticsQuery(TimeRangeQuery):
    range_required = True
    event_type = serializers.ChoiceField(choices=known_event_types())
    organization_id = TextFilter(max_length=100, help_text="One of yours, e.g. org-456; default: all of yours.")
    time = serializers.ChoiceField(
        choices=list(TIME_AXES), default=BUSINESS,
        help_text="What `from`, `to` and buckets count by: business time (when it occurred, the default) or "
                  "recorded time (when the store recorded it).")

    @property
    def range_rule(self) -> str:
        return f"`from` must be before `to`, at most {settings.ANALYTICS_MAX_RANGE_DAYS} days apart."


class TrendQuery(AnalyticsQuery):
    interval = serializers.ChoiceField(
        choices=list(INTERVALS), default="day",
        help_text=f"Bucket width; the range may hold at most {MAX_BUCKETS} buckets (e.g. about 416 days of hours).",
    )
    time_zone = TimeZoneField(required=False, max_length=64, help_text=(
        "IANA name the buckets are cut in. Default: your organizations' time zone (of the one asked for with "
        "organization_id), or UTC when they keep several."))


class MetricsQuery(serializers.Serializer):
    window_hours = serializers.IntegerField(default=24, min_value=1, max_value=24 * 90)


def _scoped_query(request, params) -> EventQuery:
    organizations = registry.organizations_to_search(request.user, params.get("organization_id") or None)
    return EventQuery(params["event_type"], params["from"], params["to"], organizations, params["time"])


def _parse(serializer_class, request):
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


def _invalid(error: InvalidQuery) -> serializers.ValidationError:
    return serializers.ValidationError({error.field: str(error)})


StatisticsSerializer = inline_serializer("EventStatistics", {
    "event_type": serializers.CharField(), "from": serializers.DateTimeField(), "to": serializers.DateTimeField(),
    "count": serializers.IntegerField(), "payments": serializers.IntegerField(
        allow_null=True, help_text="Distinct payments; null: not counted (statistics come from daily totals)."),
    "organizations": serializers.IntegerField(), "users": serializers.IntegerField(
        allow_null=True, help_text="Distinct users; null: not counted (statistics come from daily totals)."),
    "first_at": serializers.DateTimeField(allow_null=True), "last_at": serializers.DateTimeField(allow_null=True),
    "currencies": inline_serializer("CurrencyStatistics", {
        "currency": serializers.CharField(), "count": serializers.IntegerField(),
        "total": serializers.DecimalField(30, 6), "average": serializers.DecimalField(30, 6),
        "minimum": serializers.DecimalField(30, 6), "maximum": serializers.DecimalField(30, 6),
    }, many=True),
})
TrendSerializer = inline_serializer("EventTrend", {
    "event_type": serializers.CharField(), "interval": serializers.CharField(), "time_zone": serializers.CharField(),
    "buckets": inline_serializer("TrendBucket", {
        "start": serializers.DateTimeField(), "count": serializers.IntegerField(),
        "totals": serializers.DictField(child=serializers.DecimalField(30, 6)),
    }, many=True),
})


def _money(value) -> str:
    return format(value, "f")


def _rfc3339(moment) -> str:
    """The moment with its local offset; in UTC when that offset has seconds (local mean time before
    standard time, e.g. +03:26:08), which RFC 3339 cannot write."""
    offset = moment.utcoffset()
    if offset is not None and offset % timedelta(minutes=1):
        return moment.astimezone(UTC).isoformat()
    return moment.isoformat()


class StatisticsView(APIView):
    @extend_schema(parameters=[AnalyticsQuery], responses=StatisticsSerializer,
                   summary="Counts and amounts (per currency) of an event type over a range")
    def get(self, request):
        try:
            stats = event_statistics(_scoped_query(request, _parse(AnalyticsQuery, request)))
        except InvalidQuery as error:
            raise _invalid(error) from None
        return Response({
            "event_type": stats.event_type, "from": stats.since, "to": stats.until, "count": stats.count,
            "payments": stats.payments, "organizations": stats.organizations, "users": stats.users,
            "first_at": stats.first_at, "last_at": stats.last_at,
            "currencies": [{"currency": c.currency, "count": c.count, "total": _money(c.total),
                            "average": _money(c.average), "minimum": _money(c.minimum), "maximum": _money(c.maximum)}
                           for c in stats.currencies],
        })


class TrendsView(APIView):
    @extend_schema(parameters=[TrendQuery], responses=TrendSerializer,
                   summary="Counts and amount totals per hour, day, week or month; empty buckets included")
    def get(self, request):
        params = _parse(TrendQuery, request)
        query = _scoped_query(request, params)
        time_zone = params.get("time_zone") or calendar_of(
            None if query.organization_ids is None else list(query.organization_ids)).time_zone
        try:
            trend = event_trend(query, interval=params["interval"], time_zone=time_zone)
        except InvalidQuery as error:
            raise _invalid(error) from None
        return Response({
            "event_type": trend.event_type, "interval": trend.interval, "time_zone": trend.time_zone,
            "buckets": [{"start": _rfc3339(bucket.start), "count": bucket.count,
                         "totals": {currency: _money(total) for currency, total in bucket.totals.items()}}
                        for bucket in trend.buckets],
        })


MetricsSerializer = inline_serializer("WorkflowMetrics", {
    "workflow_type": serializers.CharField(), "started": serializers.IntegerField(),
    "completed": serializers.IntegerField(), "failed": serializers.IntegerField(),
    "running": serializers.IntegerField(), "average_seconds": serializers.FloatField(allow_null=True),
    "p95_seconds": serializers.FloatField(allow_null=True), "durations_sampled": serializers.IntegerField(),
}, many=True)


class WorkflowMetricsView(APIView):
    @extend_schema(parameters=[MetricsQuery], responses=MetricsSerializer,
                   summary="Workflow counts and durations by type (operators: needs view_all_organizations)")
    def get(self, request):
        if visible_organizations(request.user) is not None:
            raise PermissionDenied(_("Workflow metrics cover every organization; you need the view_all_organizations "
                                     "permission."))
        params = _parse(MetricsQuery, request)
        try:
            metrics = workflow_metrics(window=timedelta(hours=params["window_hours"]))
        except TemporalUnavailable as error:
            raise ServiceUnavailable(str(error)) from None
        return Response([vars(metric) for metric in metrics])


class StatementQuery(TimeRangeQuery):
    range_required = True
    range_rule = "Business time (when it occurred): the statement covers [from, to)."
    organization_id = serializers.RegexField(max_length=100, regex=rf"\A{ID_PATTERN.pattern}\Z",
                                             help_text="One of your organizations, e.g. org-456.")
    known_at = RangeBound(
        required=False, help_text="Recorded time, ISO 8601 (naive: UTC): only what had been recorded by then, e.g. the "
                                  "month-end close. Default: now, echoed in the answer; the same value gives the same "
                                  "statement, to the byte.")


StatementLineSerializer = inline_serializer("StatementLine", {
    "occurred_at": serializers.DateTimeField(), "recorded_at": serializers.DateTimeField(),
    "payment_id": serializers.CharField(), "event_type": serializers.CharField(), "event_id": serializers.UUIDField(),
    "position": serializers.IntegerField(), "amount": serializers.DecimalField(30, 6),
    "ledger_index": serializers.IntegerField(allow_null=True), "hash": serializers.CharField(),
}, many=True)
StatementSerializer = inline_serializer("PeriodStatement", {
    "organization_id": serializers.CharField(), "from": serializers.DateTimeField(), "to": serializers.DateTimeField(),
    "known_at": serializers.DateTimeField(),
    "tree_head": inline_serializer("StatementTreeHead", {
        "tree_size": serializers.IntegerField(), "timestamp": serializers.DateTimeField(),
        "root_hash": serializers.CharField(), "public_key": serializers.CharField()}, allow_null=True),
    "currencies": inline_serializer("StatementCurrency", {
        "currency": serializers.CharField(),
        **{name: serializers.DecimalField(30, 6) for name in ("opening", *FIGURES.values(), "net", "closing")},
        "events": inline_serializer("StatementEvents", {name: StatementLineSerializer for name in FIGURES.values()}),
    }, many=True),
})


def _statement(request) -> Statement:
    params = _parse(StatementQuery, request)
    organization = params["organization_id"]
    visible = visible_organizations(request.user)
    if visible is not None and organization not in visible:
        raise NotFound(_("No organization %(organization)s among yours.") % {"organization": organization})
    calendar = Organization.objects.filter(pk=organization).values("time_zone", "reporting_currency").first() or {}
    try:
        return period_statement(organization_id=organization, since=params["from"], until=params["to"],
                                known_at=params.get("known_at") or timezone.now(),
                                time_zone=calendar.get("time_zone", "UTC"),
                                reporting_currency=calendar.get("reporting_currency"))
    except InvalidQuery as error:
        raise _invalid(error) from None


def _line(line) -> dict:
    return {"occurred_at": line.occurred_at, "recorded_at": line.recorded_at, "payment_id": line.payment_id,
            "event_type": line.event_type, "event_id": line.event_id, "position": line.position,
            "amount": _money(line.amount), "ledger_index": line.ledger_index, "hash": line.hash}


class StatementView(APIView):
    @extend_schema(parameters=[StatementQuery], responses=StatementSerializer,
                   summary="Period statement of an organization: per currency opening balance, processed, refunded, "
                           "cancelled, net and closing balance, with the events behind each figure (ledger index and "
                           "hash), as known at a recorded time, and the signed tree head that holds them")
    def get(self, request):
        statement = _statement(request)
        record_statement_export(request, statement, "json")
        return Response({
            "organization_id": statement.organization_id, "from": statement.since, "to": statement.until,
            "known_at": statement.known_at, "tree_head": statement.tree_head,
            "currencies": [{
                "currency": totals.currency, "opening": _money(totals.opening), "processed": _money(totals.processed),
                "refunded": _money(totals.refunded), "cancelled": _money(totals.cancelled), "net": _money(totals.net),
                "closing": _money(totals.closing),
                "events": {figure: [_line(line) for line in statement.lines_of(totals.currency, figure)]
                           for figure in FIGURES.values()},
            } for totals in statement.totals],
        })


class StatementCsvView(APIView):
    @extend_schema(parameters=[StatementQuery], responses={(200, "text/csv"): OpenApiTypes.STR},
                   summary="The same period statement as CSV (byte-identical for the same known_at)")
    def get(self, request):
        statement = _statement(request)
        record_statement_export(request, statement, "csv")
        return export_response(statement_sheets(statement), file_stem=statement_file_stem(statement), stream=False)


class StatementXlsxView(APIView):
    @extend_schema(parameters=[StatementQuery], responses={(200, CONTENT_TYPES[XLSX]): OpenApiTypes.BINARY},
                   summary="The same period statement as an XLSX workbook: amounts as numbers, moments as dates")
    def get(self, request):
        statement = _statement(request)
        record_statement_export(request, statement, "xlsx")
        return export_response(statement_sheets(statement), file_stem=statement_file_stem(statement), file_format=XLSX)


class StatementJsonView(APIView):
    @extend_schema(parameters=[StatementQuery], responses={(200, "application/json"): OpenApiTypes.OBJECT},
                   summary="The period statement as the offline verifier reads it (`verify.py BUNDLE --statement FILE`): "
                           "its rules, balances, lines and tree head; byte-identical for the same known_at")
    def get(self, request):
        statement = _statement(request)
        record_statement_export(request, statement, "json")
        return HttpResponse(statement_json(statement), content_type="application/json", headers={
            "Content-Disposition": f'attachment; filename="{statement_file_name(statement, "json")}"'})
