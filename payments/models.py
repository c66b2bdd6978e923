"""Read models of payments. Each is a projection of the event store, never a source of truth:
`manage.py rebuild_projections` rebuilds them from history at any time."""

import functools
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models

from payments.approval_rules import ApprovalRule
from payments.domain import CommandRejected, PaymentStatus, minor_units

MONEY = dict(max_digits=18, decimal_places=3)


def money_text(amount, currency: str, *, separators: bool = True) -> str:
    """An amount with the currency's minor units: 1,234.50 EUR, 1,500 JPY (or 1234.50 without separators)."""
    decimals = _decimals(currency)
    if decimals is None:
        return str(amount)
    return f"{amount:{',' if separators else ''}.{decimals}f}"


@functools.lru_cache(maxsize=512)
def _decimals(currency: str) -> int | None:
    try:
        return minor_units(currency)
    except CommandRejected:
        return None


def status_label(status: str) -> str:
    """What people read for a status: PARTIALLY_REFUNDED is "Partially refunded"."""
    return status.replace("_", " ").capitalize()


class PaymentSummary(models.Model):
    payment_id = models.CharField(primary_key=True, max_length=120)
    organization_id = models.CharField(max_length=100)
    user_id = models.CharField(max_length=100)
    amount = models.DecimalField(**MONEY)
    refunded = models.DecimalField(**MONEY, default=0)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=[(status.value, status_label(status.value))
                                                      for status in PaymentStatus])
    description = models.CharField(max_length=500, blank=True)
    correlation_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    occurred_at = models.DateTimeField(null=True, help_text="Business time: when the payment was made.")
    version = models.PositiveIntegerField()
    last_position = models.BigIntegerField()
    incomplete = models.BooleanField(default=False, help_text=(
        "An event of this payment was set aside because the projection could not apply it: this row lacks "
        "what that event changed. The payment's history shows every event."))

    class Meta:
        ordering = ["-created_at", "payment_id"]
        verbose_name = "payment"
        verbose_name_plural = "payments"
        indexes = [
            models.Index(fields=["organization_id", "status", "created_at"], name="payments_summary_org_status"),
            models.Index(fields=["organization_id", "created_at"], name="payments_summary_org_created"),
            models.Index(fields=["status", "created_at"], name="payments_summary_status"),
            models.Index(fields=["currency", "created_at"], name="payments_summary_currency"),
            models.Index(fields=["created_at"], name="payments_summary_created"),
            models.Index(fields=["updated_at"], name="payments_summary_updated"),
            # the admin's search: an exact user id, or part of an id or description (iregex, which trigrams serve)
            models.Index(fields=["user_id"], name="payments_summary_user"),
            GinIndex(fields=["payment_id"], opclasses=["gin_trgm_ops"], name="payments_summary_id_trgm"),
            GinIndex(fields=["description"], opclasses=["gin_trgm_ops"], name="payments_summary_text_trgm"),
        ]

    def __str__(self):
        return f"{self.payment_id}: {self.amount_text} {self.currency} ({self.get_status_display()})"

    @property
    def amount_text(self) -> str:
        return money_text(self.amount, self.currency)

    @property
    def refunded_text(self) -> str:
        return money_text(self.refunded, self.currency)

    @property
    def amount_decimal(self) -> str:
        return money_text(self.amount, self.currency, separators=False)

    @property
    def refunded_decimal(self) -> str:
        return money_text(self.refunded, self.currency, separators=False)


class Organization(models.Model):
    """A customer organization; API clients see and command only the organizations they belong to."""

    id = models.CharField(primary_key=True, max_length=100, help_text="As used in commands, e.g. org-456.")
    name = models.CharField(max_length=200)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="organizations")

    class Meta:
        ordering = ["id"]
        permissions = [("view_all_organizations", "Can see and command every organization's payments")]

    def __str__(self):
        return f"{self.name} ({self.id})"


class Membership(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="payments_membership_once")]

    def __str__(self):
        return f"{self.user} in {self.organization_id}"


class ApprovalPolicy(models.Model):
    """One rule of an organization's four-eyes policy: refunds or cancels (in a currency or any) that
    a second person must approve, always or from a threshold. Every change is also an event of the
    organization's ApprovalPolicy stream (payments.approval_policies), with who made it."""

    COMMAND_TYPES = [("REFUND", "Refund"), ("CANCEL", "Cancel")]

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="approval_rules")
    command_type = models.CharField(max_length=10, choices=COMMAND_TYPES)
    currency = models.CharField(max_length=3, blank=True, help_text="ISO 4217 code, e.g. EUR; empty: any currency.")
    threshold = models.DecimalField(**MONEY, null=True, blank=True, help_text=(
        "Approval needed from this amount on (in the currency); empty: always."))

    class Meta:
        ordering = ["organization_id", "command_type", "currency"]
        verbose_name = "approval policy rule"
        verbose_name_plural = "approval policy"
        constraints = [models.UniqueConstraint(fields=["organization", "command_type", "currency"],
                                               name="payments_approval_rule_once")]
        permissions = [
            ("approve_payment_command", "Can approve or reject refunds and cancels of own organizations"),
            ("request_payment_command", "Can request refunds and cancels in the admin"),
        ]

    def __str__(self):
        return f"{self.organization_id}: {self.rule().describe()}"

    def rule(self) -> ApprovalRule:
        threshold = self.threshold
        if threshold is not None and _decimals(self.currency) is not None:
            threshold = Decimal(threshold).quantize(Decimal(1).scaleb(-_decimals(self.currency)))
        return ApprovalRule(self.command_type, self.currency, threshold)


class Approval(models.Model):
    """Read model of four-eyes requests, folded from the payment events (payments.projections)."""

    STATES = [("pending", "Waiting"), ("approved", "Approved"), ("rejected", "Rejected"),
              ("refused", "Refused by the payment rules"), ("expired", "Expired")]

    approval_id = models.CharField(primary_key=True, max_length=64)
    payment_id = models.CharField(max_length=120)
    organization_id = models.CharField(max_length=100)
    command_type = models.CharField(max_length=10)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=500, blank=True)
    rule = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=10, choices=STATES)
    reason = models.CharField(max_length=500, blank=True)
    requested_by_id = models.CharField(max_length=100, blank=True)
    requested_by_name = models.CharField(max_length=150, blank=True)
    requested_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True)
    decided_by_id = models.CharField(max_length=100, blank=True)
    decided_by_name = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True)
    workflow_id = models.CharField(max_length=300)
    last_position = models.BigIntegerField()

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["organization_id", "state", "requested_at"], name="payments_approval_org")]

    def __str__(self):
        return f"{self.command_type.capitalize()} of {self.amount_text} {self.currency} on {self.payment_id}"

    @property
    def amount_text(self) -> str:
        return money_text(self.amount, self.currency)
