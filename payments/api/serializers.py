from decimal import Decimal

from django.utils.translation import gettext as _
from rest_framework import serializers

from payments.api import schema  # noqa: F401  (registers the command's OpenAPI rules)
from payments.domain import (
    ID_PATTERN,
    MAX_DESCRIPTION_LENGTH,
    CommandRejected,
    CommandType,
    business_time_text,
    minor_units,
    parse_amount,
    parse_occurred_at,
    parse_positive_amount,
)
from payments.models import Approval, PaymentSummary
from payments.selectors import APPROVAL_VIEWS

ID_FIELD = dict(max_length=100, regex=rf"\A{ID_PATTERN.pattern}\Z")


# Who acts is whoever authenticated the request: a body that tries to say otherwise is refused, not ignored.
ACTOR_FIELDS = ("actor", "actor_seal", "actor_seals", "approved_by", "on_behalf_of")


def _refuse_named_actors(data: dict) -> None:
    named = [name for name in ACTOR_FIELDS if name in data]
    if named:
        raise serializers.ValidationError({name: "The actor of a command is the authenticated caller (its token or "
                                                 "session); a request body cannot name one." for name in named})


class PaymentCommandSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=[command.value for command in CommandType])
    payment_id = serializers.RegexField(
        **ID_FIELD, required=False,
        help_text='Required for REFUND and CANCEL. Leave it out of a CREATE (recommended) and the server generates '
                  'a time-ordered id ("payment-" and a UUIDv7), returned as the result\'s payment_id. "123" and '
                  '"payment-123" name the same payment.',
    )
    organization_id = serializers.RegexField(**ID_FIELD)
    user_id = serializers.RegexField(**ID_FIELD, required=False, help_text="Defaults to the caller's username.")
    amount = serializers.CharField(
        required=False, max_length=40,
        help_text='A decimal string greater than zero with no more decimals than the currency has minor units, '
                  'e.g. "125.00" EUR, "1500" JPY, "12.125" KWD. Required for CREATE and REFUND.',
    )
    currency = serializers.CharField(
        required=False, min_length=3, max_length=3,
        help_text="ISO 4217 code of a currency with minor units, e.g. EUR. Required for CREATE; a REFUND's "
                  "defaults to the payment's.",
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=MAX_DESCRIPTION_LENGTH, default="")
    correlation_id = serializers.CharField(required=False, max_length=200, trim_whitespace=False,
                                           help_text="Ties events of one business process together, e.g. order-7731.")
    occurred_at = serializers.CharField(
        required=False, max_length=40,
        help_text="Business time: when it happened at the provider or bank, ISO 8601 with an offset, e.g. "
                  "2024-03-05T10:30:00+01:00. Default: now. Not later than now plus a few minutes; a REFUND or "
                  "CANCEL not before its payment's.",
    )

    def to_internal_value(self, data):
        if isinstance(data, dict):
            _refuse_named_actors(data)
        if isinstance(data, dict) and isinstance(data.get("amount"), (int, Decimal)) and not isinstance(data.get("amount"), bool):
            data = {**data, "amount": str(data["amount"])}  # JSON numbers arrive exact (Decimal), never float
        return super().to_internal_value(data)

    def validate_currency(self, value: str) -> str:
        try:
            minor_units(value.upper())
        except CommandRejected as rejection:
            raise serializers.ValidationError(str(rejection)) from None
        return value.upper()

    def validate_occurred_at(self, value: str) -> str:
        """The format here; whether it lies too far in the future or before its payment is a business
        rule the command's workflow applies (422)."""
        try:
            return business_time_text(parse_occurred_at(value))
        except CommandRejected as rejection:
            raise serializers.ValidationError(str(rejection)) from None

    def validate_amount(self, value: str) -> str:
        try:
            parse_positive_amount(value)
        except CommandRejected as rejection:
            raise serializers.ValidationError(str(rejection)) from None
        return value.strip()

    def validate(self, attrs):
        kind, amount, currency = attrs["type"], attrs.get("amount"), attrs.get("currency")
        if kind != CommandType.CREATE and not attrs.get("payment_id"):
            raise serializers.ValidationError({"payment_id": _("Required for %(kind)s.") % {"kind": kind}})
        if kind in (CommandType.CREATE, CommandType.REFUND) and amount is None:
            raise serializers.ValidationError({"amount": _("Required for %(kind)s.") % {"kind": kind}})
        if kind == CommandType.CREATE and currency is None:
            raise serializers.ValidationError({"currency": _("Required for %(kind)s.") % {"kind": "CREATE"}})
        if amount is not None and currency is not None:
            try:
                parse_amount(amount, currency)
            except CommandRejected as rejection:
                raise serializers.ValidationError({"amount": str(rejection)}) from None
        return attrs


class PaymentCommandResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    payment_id = serializers.CharField()
    version = serializers.IntegerField()
    event_ids = serializers.ListField(child=serializers.UUIDField())
    workflow_id = serializers.CharField()
    correlation_id = serializers.CharField()
    status = serializers.CharField(allow_blank=True)
    replayed = serializers.BooleanField(help_text="True when this answers an earlier request with the same key.")
    approval_id = serializers.CharField(allow_blank=True, help_text=(
        "Set when the organization's approval policy puts the command under four-eyes control."))
    approval_state = serializers.CharField(allow_blank=True, help_text=(
        "pending (answered with 202: a second person has to approve it), approved, rejected, refused (approved, "
        "then refused by the payment rules), expired; empty without approval."))


class ApprovalSerializer(serializers.ModelSerializer):
    amount = serializers.SerializerMethodField()
    requested_by = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()

    class Meta:
        model = Approval
        fields = ["approval_id", "payment_id", "organization_id", "command_type", "amount", "currency", "description",
                  "rule", "state", "reason", "requested_by", "requested_at", "expires_at", "decided_by", "decided_at"]

    def get_amount(self, approval) -> str:
        return approval.amount_text.replace(",", "")

    def get_requested_by(self, approval) -> dict:
        return {"id": approval.requested_by_id, "name": approval.requested_by_name}

    def get_decided_by(self, approval) -> dict | None:
        return {"id": approval.decided_by_id, "name": approval.decided_by_name} if approval.decided_by_id else None


class ApprovalQuerySerializer(serializers.Serializer):
    filter = serializers.ChoiceField(choices=APPROVAL_VIEWS, required=False, help_text=(
        "waiting_for_me: pending requests you may decide; requested_by_me; decided."))


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=MAX_DESCRIPTION_LENGTH, help_text="Why; required.")


class ApproveSerializer(serializers.Serializer):
    pass


class PaymentSummarySerializer(serializers.ModelSerializer):
    amount = serializers.CharField(source="amount_decimal", help_text="Decimal string in the currency's minor units.")
    refunded = serializers.CharField(source="refunded_decimal")

    class Meta:
        model = PaymentSummary
        fields = ["payment_id", "organization_id", "user_id", "amount", "refunded", "currency", "status",
                  "description", "correlation_id", "created_at", "updated_at", "occurred_at", "version", "incomplete"]


class PaymentStateSerializer(serializers.Serializer):
    payment_id = serializers.CharField(source="state.payment_id")
    version = serializers.IntegerField()
    as_of = serializers.DateTimeField(source="recorded_at", allow_null=True,
                                      help_text="When the last event folded in was recorded.")
    occurred_at = serializers.DateTimeField(allow_null=True,
                                            help_text="Business time of the last event folded in.")
    status = serializers.CharField(source="state.status")
    organization_id = serializers.CharField(source="state.organization_id")
    user_id = serializers.CharField(source="state.user_id")
    amount = serializers.CharField(source="state.amount")
    refunded = serializers.CharField(source="state.refunded")
    currency = serializers.CharField(source="state.currency")
    description = serializers.CharField(source="state.description")


class StateQuerySerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1,
                                       help_text="A version of the payment, 1 to its latest.")
    at = serializers.DateTimeField(required=False, help_text=(
        "Business time, ISO 8601 (naive times are UTC): only what occurred by then. Not with version."))
    known_at = serializers.DateTimeField(required=False, help_text=(
        "Recorded time, ISO 8601 (naive times are UTC): only what had been recorded by then, e.g. at month-end "
        "close. Not with version."))

    def validate(self, attrs):
        for name in ("at", "known_at"):
            if "version" in attrs and name in attrs:
                raise serializers.ValidationError({
                    name: _("Give either version or %(name)s, not both.") % {"name": name}})
        return attrs
