"""Reconciliation endpoints: import a settlement file (multipart), read a run's progress and
findings, export them, resolve one with a note. A run of another organization is not found."""

from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from eventstore.temporal.connection import TemporalUnavailable
from eventstore.web.actors import actor_of_request
from eventstore.web.errors import ErrorSerializer, ServiceUnavailable
from eventstore.web.exports import CONTENT_TYPES, XLSX, download
from eventstore.web.pagination import limit_field, next_link
from payments import selectors as payment_selectors
from payments.api.reconciliation_serializers import (
    FindingPageSerializer,
    FindingSerializer,
    ImportSerializer,
    ReconciliationPageSerializer,
    ReconciliationSerializer,
    ResolveSerializer,
)
from payments.models import Organization
from payments.reconciliation import export, selectors, services
from payments.reconciliation.client import AlreadyResolved
from payments.reconciliation.finding_texts import refusal_message
from payments.reconciliation.matching import FINDINGS
from payments.reconciliation.settlement_format import FileRefused

FINDING_CURSOR = r"^n[0-9]{1,9}$"
RUN_CURSOR = r"^r[0-9]{1,18}$"


class AlreadyResolvedError(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "already_resolved"


class FileNotReadable(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_settlement_file"


class ReconciliationMixin:
    def get_run(self):
        organizations = payment_selectors.visible_organizations(self.request.user)
        try:
            run = selectors.visible_reconciliation(int(self.kwargs["reconciliation_id"]), organizations)
        except (TypeError, ValueError, OverflowError):
            run = None
        if run is None:
            raise Http404
        return run


class _RunQuery(serializers.Serializer):
    limit = limit_field()
    cursor = serializers.RegexField(rf"\A{RUN_CURSOR[1:-1]}\Z", required=False,
                                    error_messages={"invalid": gettext_lazy("Not a cursor this API gave out.")})


class ReconciliationImportView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(parameters=[_RunQuery], responses={200: ReconciliationPageSerializer},
                   operation_id="reconciliations_list",
                   summary="The reconciliation runs of the caller's organizations, newest first")
    def get(self, request):
        query = _RunQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit, cursor = query.validated_data["limit"], query.validated_data.get("cursor")
        runs = selectors.reconciliations(payment_selectors.visible_organizations(request.user)).order_by("-id")
        rows = list((runs.filter(id__lt=int(cursor[1:])) if cursor else runs)[: limit + 1])
        page = rows[:limit]
        return Response({"results": ReconciliationSerializer(page, many=True).data,
                         "next": next_link(request, f"r{page[-1].pk}" if len(rows) > limit else None)})

    @extend_schema(
        request={"multipart/form-data": ImportSerializer},
        responses={
            201: OpenApiResponse(ReconciliationSerializer, "Imported; the run has started (follow its progress)."),
            200: OpenApiResponse(ReconciliationSerializer, "This file was imported before: the earlier run."),
            400: OpenApiResponse(ErrorSerializer, "A file that cannot be read (not UTF-8 CSV, unknown columns, no "
                                                  "lines), or bad fields; nothing stored."),
            403: OpenApiResponse(ErrorSerializer, "An organization the caller is not a member of."),
            503: OpenApiResponse(ErrorSerializer, "Temporal is unreachable; nothing stored."),
        },
        summary="Import a settlement file and reconcile it against the trail",
    )
    def post(self, request):
        form = ImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        organization = self._organization(request, data.get("organization_id"))
        period = (data["period_start"], data["period_end"]) if "period_start" in data else None
        upload = data["file"]
        try:
            imported = services.import_settlement_file(
                organization=organization, upload=upload.file, file_name=upload.name, mapping=data["mapping"],
                period=period, actor=actor_of_request(request), user=request.user)
        except FileRefused as error:
            raise FileNotReadable(refusal_message(error)) from None
        except TemporalUnavailable as error:
            raise ServiceUnavailable(_("The reconciliation service is unreachable (%(error)s); nothing was stored.")
                                     % {"error": error}) from None
        answer = ReconciliationSerializer(imported.reconciliation, context={"already_imported": not imported.created})
        return Response(answer.data, status=status.HTTP_201_CREATED if imported.created else status.HTTP_200_OK)

    def _organization(self, request, wanted: str | None) -> Organization:
        visible = payment_selectors.visible_organizations(request.user)
        if wanted is None:
            if visible is None or len(visible) != 1:
                raise ValidationError({"organization_id": _("Name the organization whose settlement this is.")})
            wanted = visible[0]
        if visible is not None and wanted not in visible:
            raise PermissionDenied(_("You cannot reconcile for organization %(organization)s.")
                                   % {"organization": wanted})
        organization = Organization.objects.filter(pk=wanted).first()
        if organization is None:
            raise ValidationError({"organization_id": _("No organization %(organization)s.")
                                                      % {"organization": wanted}})
        return organization


class ReconciliationDetailView(ReconciliationMixin, APIView):
    @extend_schema(responses={200: ReconciliationSerializer, 404: ErrorSerializer},
                   summary="A reconciliation run: progress, the file's totals and the findings summary")
    def get(self, request, reconciliation_id):
        return Response(ReconciliationSerializer(self.get_run()).data)


class _FindingQuery(serializers.Serializer):
    limit = limit_field()
    outcome = serializers.ChoiceField(choices=[str(outcome) for outcome in FINDINGS], required=False,
                                      help_text="Only findings of this outcome.")
    open = serializers.BooleanField(required=False, allow_null=True, default=None,
                                    help_text="true: only those not resolved yet; false: only resolved ones.")
    cursor = serializers.RegexField(rf"\A{FINDING_CURSOR[1:-1]}\Z", required=False,
                                    error_messages={"invalid": gettext_lazy("Not a cursor this API gave out.")})


class FindingListView(ReconciliationMixin, APIView):
    @extend_schema(parameters=[_FindingQuery], responses={200: FindingPageSerializer, 404: ErrorSerializer},
                   summary="A run's findings in order, cursor-paginated")
    def get(self, request, reconciliation_id):
        run = self.get_run()
        query = _FindingQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit, cursor = query.validated_data["limit"], query.validated_data.get("cursor")
        findings = selectors.findings(run, outcome=query.validated_data.get("outcome"),
                                      open=query.validated_data.get("open"))
        rows = list(findings.filter(number__gt=int(cursor[1:]) if cursor else 0)[: limit + 1])
        page = rows[:limit]
        more = len(rows) > limit
        return Response({"results": FindingSerializer(page, many=True).data,
                         "next": next_link(request, f"n{page[-1].number}" if more else None)})


class FindingExportView(ReconciliationMixin, APIView):
    @extend_schema(
        parameters=[OpenApiParameter("download", str, enum=["csv", "xlsx"], description="csv (default) or xlsx"),
                    OpenApiParameter("bom", str, description="1: the CSV starts with a byte order mark, for Excel")],
        responses={(200, "text/csv"): str, (200, CONTENT_TYPES[XLSX]): OpenApiTypes.BINARY, 404: ErrorSerializer},
        summary="A run's findings as CSV or XLSX (cells a spreadsheet would run as formulas are neutralised)")
    def get(self, request, reconciliation_id):
        run = self.get_run()
        return download(request, [export.findings_sheet(selectors.findings(run).iterator())],
                        file_stem=export.file_stem(run.pk))


class FindingResolveView(ReconciliationMixin, APIView):
    @extend_schema(
        request=ResolveSerializer,
        responses={200: FindingSerializer, 404: ErrorSerializer,
                   409: OpenApiResponse(ErrorSerializer, "Already resolved (`already_resolved`); its note stays."),
                   503: ErrorSerializer},
        summary="Resolve a finding with a note (recorded as an event, with who resolved it)",
    )
    def post(self, request, reconciliation_id, number):
        run = self.get_run()
        finding = selectors.finding(run, number)
        if finding is None:
            raise Http404
        form = ResolveSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            services.resolve_finding(finding=finding, note=form.validated_data["note"],
                                     actor=actor_of_request(request))
        except ValueError as error:
            raise ValidationError({"note": str(error)}) from None
        except AlreadyResolved as error:
            raise AlreadyResolvedError(str(error)) from None
        except TemporalUnavailable as error:
            raise ServiceUnavailable(_("The reconciliation service is unreachable (%(error)s).")
                                     % {"error": error}) from None
        finding.refresh_from_db()
        return Response(FindingSerializer(finding).data)
