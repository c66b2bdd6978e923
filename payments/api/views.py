"""Payment endpoints: commands through Temporal; reads from the read model and the store's selectors."""

from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView
from temporalio.service import RPCError

from eventstore.api.pages import EventPageQuery, EventPageSerializer, event_page, page_query
from eventstore.temporal.connection import TemporalUnavailable
from eventstore.temporal.search_attributes import SearchAttributesMissing
from eventstore.web.actors import actor_of_request
from eventstore.web.errors import ErrorSerializer, ServiceUnavailable
from eventstore.web.pagination import TimeKeyPagination, position_of
from eventstore.web.query_fields import NO_NUL_PATTERN
from eventstore.web.throttling import ScopedRateThrottle
from payments import selectors, tokens
from payments.api.filters import PaymentSummaryFilter
from payments.api.serializers import (
    ApprovalQuerySerializer,
    ApprovalSerializer,
    ApproveSerializer,
    PaymentCommandResultSerializer,
    PaymentCommandSerializer,
    PaymentStateSerializer,
    PaymentSummarySerializer,
    RejectSerializer,
    StateQuerySerializer,
)
from payments.client import (
    ApprovalClosed,
    CommandNotFinished,
    DecisionRefused,
    IdempotencyKeyReused,
    InvalidDecision,
    InvalidIdempotencyKey,
    decide,
    run_command,
)
from payments.domain import CommandRejected, canonical_payment_id
from payments.messages import ApprovalDecision, PaymentCommandRequest

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False, pattern=r"^[!-~]{1,200}$",
    description="Repeat a request safely: the same key with the same body answers the first result (200); "
                "with another body, 409. 1 to 200 printable characters, e.g. order-7731.",
)


_EXAMPLE_ID = "payment-0193b2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b"
COMMAND_EXAMPLES = [
    OpenApiExample("CREATE, the server choosing the payment id (recommended)", request_only=True, value={
        "type": "CREATE", "organization_id": "org-456", "amount": "125.00", "currency": "EUR",
        "description": "Invoice 2026-0117"}),
    OpenApiExample("CREATE with an id of your own", request_only=True, value={
        "type": "CREATE", "payment_id": "payment-inv-2026-0118", "organization_id": "org-456", "amount": "1500",
        "currency": "JPY", "description": "Invoice 2026-0118"}),
    OpenApiExample("REFUND part of a payment", request_only=True, value={
        "type": "REFUND", "payment_id": _EXAMPLE_ID, "organization_id": "org-456", "amount": "25.00",
        "currency": "EUR", "description": "Damaged item"}),
    OpenApiExample("CANCEL a payment", request_only=True, value={
        "type": "CANCEL", "payment_id": _EXAMPLE_ID, "organization_id": "org-456", "description": "Duplicate order"}),
    OpenApiExample("Accepted", response_only=True, status_codes=["201", "200"], value={
        "success": True, "message": f"Payment {_EXAMPLE_ID} processed: 125.00 EUR.", "payment_id": _EXAMPLE_ID,
        "version": 1, "event_ids": ["0193b2c4-5d70-7c1e-8e2f-3a4b5c6d7e8f"],
        "workflow_id": "payment-command:org-456:order-7731", "correlation_id": "order-7731",
        "status": "PROCESSED", "replayed": False}),
]


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_key_reused"


class CommandRefused(APIException):
    """A business rule refused the command; nothing was written."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "command_rejected"


class PaymentNotFound(CommandRefused):
    """The payment does not exist or is another organization's: one answer for both."""

    status_code = status.HTTP_404_NOT_FOUND
    default_code = "payment_not_found"


class PaymentIdTaken(CommandRefused):
    """A CREATE of an id in use, whoever uses it."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "payment_id_taken"


class PaymentUnreadable(CommandRefused):
    """The caller's payment holds an event its rules cannot apply: it takes no command until repaired."""

    default_code = "payment_unreadable"


REFUSALS = {refusal.default_code: refusal
            for refusal in (CommandRefused, PaymentNotFound, PaymentIdTaken, PaymentUnreadable)}


class PaymentCommandView(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "commands"

    @extend_schema(exclude=True)
    def get(self, request):
        """`payments/commands/` read with GET is the payment whose id is "commands" (`payments/{id}/`),
        which this route shadows."""
        return PaymentDetailView.as_view()(request._request, payment_id="commands")

    @extend_schema(
        request=PaymentCommandSerializer, parameters=[IDEMPOTENCY_KEY], examples=COMMAND_EXAMPLES,
        responses={
            201: OpenApiResponse(PaymentCommandResultSerializer, "Accepted: events were written."),
            202: OpenApiResponse(
                PaymentCommandResultSerializer,
                "The organization's approval policy puts this REFUND or CANCEL under four-eyes control: "
                "`...Requested` was written and it waits for a second person (`approval_id`, `approval_state` "
                "pending; see /api/approvals/).",
            ),
            200: OpenApiResponse(PaymentCommandResultSerializer, "A replay of an earlier request with this key."),
            422: OpenApiResponse(ErrorSerializer, "Refused by a business rule (`command_rejected`); nothing written."),
            404: OpenApiResponse(
                ErrorSerializer,
                "REFUND or CANCEL of a payment that does not exist or is another organization's "
                "(`payment_not_found`: the same answer for both); nothing written.",
            ),
            409: OpenApiResponse(
                ErrorSerializer,
                "Idempotency key reused with another body (`idempotency_key_reused`), or a CREATE of a payment id "
                "already taken (`payment_id_taken`, whoever holds it); nothing written.",
            ),
            503: OpenApiResponse(
                ErrorSerializer,
                "Temporal or the worker is unreachable or slow, or its namespace lacks the search attributes of "
                "payment commands (`unavailable`, the message says which); repeat with the same idempotency key.",
            ),
        },
        summary="Run a payment command (CREATE, REFUND, CANCEL) through Temporal",
    )
    def post(self, request):
        serializer = PaymentCommandSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        command = serializer.validated_data
        self._check_allowed(request, command)
        try:
            result = run_command(self._request(request, command), actor=actor_of_request(request),
                                 timeout=settings.API_COMMAND_TIMEOUT_SECONDS)
        except InvalidIdempotencyKey as error:
            raise ValidationError({"Idempotency-Key": str(error)}) from None
        except IdempotencyKeyReused as error:
            raise Conflict(str(error)) from None
        except (CommandNotFinished, SearchAttributesMissing) as error:
            raise ServiceUnavailable(str(error)) from None
        except TemporalUnavailable as error:
            raise ServiceUnavailable(_("The command service is unreachable (%(error)s); nothing was run.") % {
                "error": error}) from None
        except RPCError as error:  # Temporal answered with an error, e.g. while it restarts
            raise ServiceUnavailable(_(
                "The command service failed to answer (%(status)s: %(message)s); repeat the request with the same "
                "idempotency key.") % {"status": error.status.name, "message": error.message}) from None
        if not result.success:
            raise REFUSALS.get(result.code, CommandRefused)(result.message)
        answer = PaymentCommandResultSerializer(result).data
        if result.approval_state == "pending":
            return Response(answer, status=status.HTTP_202_ACCEPTED)
        return Response(answer, status=status.HTTP_200_OK if result.replayed else status.HTTP_201_CREATED)

    def _check_allowed(self, request, command):
        organizations = selectors.visible_organizations(request.user)
        if organizations is not None and command["organization_id"] not in organizations:
            raise PermissionDenied(_("You cannot run commands for organization %(organization)s.") % {
                "organization": command["organization_id"]})
        user_id = command.get("user_id")
        if user_id and user_id != request.user.get_username() and organizations is not None:
            raise PermissionDenied(_("user_id must be your own username."))

    def _request(self, request, command) -> PaymentCommandRequest:
        return PaymentCommandRequest(
            type=command["type"], payment_id=command.get("payment_id", ""), organization_id=command["organization_id"],
            user_id=command.get("user_id") or request.user.get_username(), amount=command.get("amount"),
            currency=command.get("currency"), description=command.get("description", ""),
            correlation_id=command.get("correlation_id"), idempotency_key=request.headers.get("Idempotency-Key"),
            occurred_at=command.get("occurred_at"),
        )


class PaymentPagination(TimeKeyPagination):
    time_field = "created_at"
    key_field = "payment_id"


class VisiblePaymentMixin:
    def visible_organizations(self):
        return selectors.visible_organizations(self.request.user)

    def get_payment(self):
        """The payment the path names, in either form of its id ("123" or "payment-123")."""
        payment = selectors.visible_payment(self._payment_id_of_path(), self.visible_organizations())
        if payment is None:
            raise Http404
        return payment

    def get_payment_id(self) -> str:
        """The id of the payment the path names, when `get_payment` would find it (without reading it)."""
        payment_id = selectors.visible_payment_id(self._payment_id_of_path(), self.visible_organizations())
        if payment_id is None:
            raise Http404
        return payment_id

    def _payment_id_of_path(self) -> str:
        try:
            return canonical_payment_id(self.kwargs["payment_id"])
        except CommandRejected:
            raise Http404 from None


AMOUNT_BOUND_PATTERN = r"^[0-9]{1,15}(\.[0-9]{1,3})?$"


@extend_schema(
    summary="Payments (read model), filterable, newest first",
    parameters=[
        *(OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY, pattern=AMOUNT_BOUND_PATTERN,
                           description=f"{bound} amount, a decimal such as 125.00 (in the payment's currency).")
          for name, bound in (("min_amount", "Smallest"), ("max_amount", "Largest"))),
        *(OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY, pattern=NO_NUL_PATTERN,
                           description=description)
          for name, description in (("currency", "ISO 4217 code, e.g. EUR; any case."),
                                    ("organization_id", "e.g. org-456"), ("user_id", "e.g. alice"))),
    ],
)
class PaymentListView(VisiblePaymentMixin, generics.ListAPIView):
    serializer_class = PaymentSummarySerializer
    pagination_class = PaymentPagination
    filterset_class = PaymentSummaryFilter

    def get_queryset(self):
        return selectors.payment_summaries(self.visible_organizations())


@extend_schema(summary="One payment")
class PaymentDetailView(VisiblePaymentMixin, generics.RetrieveAPIView):
    serializer_class = PaymentSummarySerializer

    def get_object(self):
        return self.get_payment()


class PaymentHistoryView(VisiblePaymentMixin, APIView):
    @extend_schema(parameters=[EventPageQuery], responses=EventPageSerializer,
                   summary="A payment's events in version order; cursor-paginated")
    def get(self, request, payment_id):
        payment_id = self.get_payment_id()
        params = page_query(request)
        events = selectors.payment_history(payment_id, after_version=position_of(params.get("cursor")))
        return event_page(request, events, params["limit"], lambda event: event.version)  # the cursor counts versions


class PaymentStateView(VisiblePaymentMixin, APIView):
    @extend_schema(
        parameters=[StateQuerySerializer],
        responses={
            200: PaymentStateSerializer,
            404: OpenApiResponse(ErrorSerializer, "No such payment (or not visible to this caller); a time before "
                                                  "the payment was created; or a version after its latest, which "
                                                  "the message names."),
        },
        summary="The payment as it was at a version, or as of a business time as known at a recorded time",
    )
    def get(self, request, payment_id):
        payment = self.get_payment()
        query = StateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        version, at, known_at = (query.validated_data.get(name) for name in ("version", "at", "known_at"))
        state = selectors.payment_state_as_of(payment.payment_id, version=version, at=at, known_at=known_at)
        if state is None:
            when = " as known at ".join(moment.isoformat() for moment in (at, known_at) if moment) or "that point"
            raise NotFound(_("Payment %(payment_id)s did not exist yet at %(when)s: it was created at %(created)s.") % {
                "payment_id": payment.payment_id, "when": when, "created": payment.created_at.isoformat()})
        if version is not None and state.version < version:
            raise NotFound(_("Payment %(payment_id)s has no version %(version)s; its latest version is %(latest)s.") % {
                "payment_id": payment.payment_id, "version": version, "latest": state.version})
        return Response(PaymentStateSerializer(state).data)


class ApprovalClosedError(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "approval_closed"


class ApprovalPagination(TimeKeyPagination):
    time_field = "requested_at"
    key_field = "approval_id"


class ApprovalListView(generics.ListAPIView):
    serializer_class = ApprovalSerializer
    pagination_class = ApprovalPagination

    @extend_schema(parameters=[ApprovalQuerySerializer],
                   summary="Four-eyes requests of your organizations: waiting for you, requested by you, decided")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = ApprovalQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.approvals(self.request.user, query.validated_data.get("filter"))


class ApprovalMixin:
    def get_approval(self, approval_id: str):
        approval = selectors.visible_approval(self.request.user, approval_id)
        if approval is None:
            raise NotFound(_("No such approval."))  # the same whether missing or another organization's
        return approval


@extend_schema(summary="One four-eyes request")
class ApprovalDetailView(ApprovalMixin, generics.RetrieveAPIView):
    serializer_class = ApprovalSerializer

    def get_object(self):
        return self.get_approval(self.kwargs["approval_id"])


class ApprovalDecisionView(ApprovalMixin, APIView):
    """Approve or reject; who decides is the authenticated caller, checked again by the workflow's activity."""

    decision = ""
    token_role = tokens.APPROVE  # an API token needs the approve role to decide
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "commands"

    def post(self, request, approval_id):
        approval = self.get_approval(approval_id)
        body = (RejectSerializer if self.decision == "reject" else ApproveSerializer)(data=request.data)
        body.is_valid(raise_exception=True)
        if approval.state != "pending":
            raise ApprovalClosedError(_("Approval %(approval_id)s is already %(state)s.") % {
                "approval_id": approval_id, "state": approval.get_state_display().lower()})
        try:
            result = decide(approval.workflow_id,
                            ApprovalDecision(self.decision, body.validated_data.get("reason", "")),
                            actor=actor_of_request(request), timeout=settings.API_COMMAND_TIMEOUT_SECONDS)
        except DecisionRefused as error:
            raise PermissionDenied(str(error)) from None
        except ApprovalClosed as error:
            raise ApprovalClosedError(str(error)) from None
        except InvalidDecision as error:
            raise ValidationError({"reason": str(error)}) from None
        except CommandNotFinished as error:
            raise ServiceUnavailable(str(error)) from None
        except TemporalUnavailable as error:
            raise ServiceUnavailable(_("The command service is unreachable (%(error)s); nothing was decided.")
                                     % {"error": error}) from None
        except RPCError as error:
            raise ServiceUnavailable(_("The command service failed to answer (%(status)s: %(message)s); nothing "
                                       "was decided.") % {"status": error.status.name,
                                                          "message": error.message}) from None
        approval.refresh_from_db()
        return Response({"approval": ApprovalSerializer(approval).data,
                         "result": PaymentCommandResultSerializer(result).data})


def _decision_schema(decision: str):
    return extend_schema(
        request=RejectSerializer if decision == "reject" else None,
        responses={200: OpenApiResponse(description="Decided: the approval and the command's result."),
                   403: OpenApiResponse(ErrorSerializer, "You asked for it, lack the approver permission, or are "
                                                         "not a member of its organization."),
                   404: OpenApiResponse(ErrorSerializer, "No such approval in your organizations."),
                   409: OpenApiResponse(ErrorSerializer, "Already decided or expired.")},
        summary=f"{decision.capitalize()} a four-eyes request" + (" (reason required)" if decision == "reject" else ""),
    )


class ApproveView(ApprovalDecisionView):
    decision = "approve"

    @_decision_schema("approve")
    def post(self, request, approval_id):
        return super().post(request, approval_id)


class RejectView(ApprovalDecisionView):
    decision = "reject"

    @_decision_schema("reject")
    def post(self, request, approval_id):
        return super().post(request, approval_id)
