"""Read models of payments. Each is a projection of the event store, never a source of truth:
`manage.py rebuild_projections` rebuilds them from history at any time."""

import functools
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from eventstore.web import localized
from payments.approval_rules import ApprovalRule
from payments.domain import CommandRejected, PaymentStatus, minor_units

MONEY = dict(max_digits=18, decimal_places=3)


def money_text(amount, currency: str, *, separators: bool = True) -> str:
    """An amount with the currency's minor units, the reader's way: 1,234.50 or 1 234,50; 1,500 JPY
    (without separators, for machines and files: 1234.50 in every language)."""
    decimals = currency_decimals(currency)
    if decimals is None:
        return str(amount)
    if not separators:
        return f"{amount:.{decimals}f}"
    return localized.decimal_text(amount, decimals)


def money_label(amount, currency: str) -> str:
    """The amount and its currency, the reader's way: 1,234.50 EUR in English, 1 234,50 € in French."""
    decimals = currency_decimals(currency)
    if decimals is None:
        return f"{amount} {currency}"
    return localized.money_text(amount, currency, decimals)


@functools.lru_cache(maxsize=512)
def currency_decimals(currency: str) -> int | None:
    try:
        return minor_units(currency)
    except CommandRejected:
        return None


STATUS_LABELS = {
    PaymentStatus.PROCESSED.value: _("Processed"),
    PaymentStatus.PARTIALLY_REFUNDED.value: _("Partially refunded"),
    PaymentStatus.REFUNDED.value: _("Refunded"),
    PaymentStatus.CANCELLED.value: _("Cancelled"),
}


def status_label(status: str) -> str:
    """What people read for a status, in their language: PARTIALLY_REFUNDED is "Partially refunded"."""
    label = STATUS_LABELS.get(status)
    return str(label) if label is not None else status.replace("_", " ").capitalize()


class PaymentSummary(models.Model):
    payment_id = models.CharField(_("payment id"), primary_key=True, max_length=120)
    organization_id = models.CharField(_("organization id"), max_length=100)
    user_id = models.CharField(_("user id"), max_length=100)
    amount = models.DecimalField(_("amount"), **MONEY)
    refunded = models.DecimalField(_("refunded"), **MONEY, default=0)
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(_("status"), max_length=20, choices=list(STATUS_LABELS.items()))
    description = models.CharField(_("description"), max_length=500, blank=True)
    correlation_id = models.CharField(_("correlation id"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))
    occurred_at = models.DateTimeField(_("occurred at"), null=True,
                                       help_text=_("Business time: when the payment was made."))
    version = models.PositiveIntegerField(_("version"))
    last_position = models.BigIntegerField(_("last position"))
    incomplete = models.BooleanField(_("incomplete"), default=False, help_text=_(
        "An event of this payment was set aside because the projection could not apply it: this row lacks "
        "what that event changed. The payment's history shows every event."))

    class Meta:
        ordering = ["-created_at", "payment_id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        indexes = [
            models.Index(fields=["organization_id", "status", "created_at"], name="payments_summary_org_status"),
            models.Index(fields=["organization_id", "created_at"], name="payments_summary_org_created"),
            models.Index(fields=["status", "created_at"], name="payments_summary_status"),
            models.Index(fields=["currency", "created_at"], name="payments_summary_currency"),
            models.Index(fields=["created_at"], name="payments_summary_created"),
            # the list leads with the business date, and filters on it
            models.Index(fields=["occurred_at", "payment_id"], name="payments_summary_occurred"),
            models.Index(fields=["organization_id", "occurred_at", "payment_id"], name="payments_summary_org_occurred"),
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


@functools.cache
def time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(name: str) -> None:
    """An IANA time zone name the zone database knows (Europe/Paris, UTC)."""
    if name not in time_zone_names():
        raise ValidationError("%(name)r is not an IANA time zone; use a name such as Europe/Paris or UTC.",
                              code="invalid_time_zone", params={"name": name})


def validate_currency(code: str) -> None:
    """An ISO 4217 currency that amounts can be written in (EUR, JPY)."""
    if currency_decimals(code) is None:
        raise ValidationError("%(code)r is not an ISO 4217 currency code with minor units, such as EUR.",
                              code="invalid_currency", params={"code": code})


def default_time_zone() -> str:
    return settings.DEFAULT_ORGANIZATION_TIME_ZONE


def default_reporting_currency() -> str:
    return settings.DEFAULT_REPORTING_CURRENCY


class Organization(models.Model):
    """A customer organization; API clients see and command only the organizations they belong to.
    Its calendar (time zone and reporting currency) is changed through
    `payments.services.change_organization_calendar`, which records each change as an event."""

    id = models.CharField(_("id"), primary_key=True, max_length=100,
                          help_text=_("As used in commands, e.g. org-456."))
    name = models.CharField(_("name"), max_length=200)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=default_time_zone, validators=[validate_time_zone],
        help_text=_("IANA time zone, e.g. Europe/Paris: statements, the dashboard and date filters cut days and "
                    "months at its midnight."))
    reporting_currency = models.CharField(
        _("reporting currency"), max_length=3, default=default_reporting_currency, validators=[validate_currency],
        help_text=_("ISO 4217 code, e.g. EUR: the currency statements show first."))
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="organizations",
                                     verbose_name=_("members"))

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["id"]
        permissions = [("view_all_organizations", "Can see and command every organization's payments")]

    def __str__(self):
        return f"{self.name} ({self.id})"


class Membership(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, verbose_name=_("organization"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, verbose_name=_("user"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="payments_membership_once")]

    def __str__(self):
        return f"{self.user} in {self.organization_id}"


class ApiToken(models.Model):
    """A named API credential of one user, limited to some of the user's organizations and to roles
    (`payments.tokens.ROLES`). Only the SHA-256 of its key is stored; the key is shown once, when made
    (`payments.tokens.issue_api_token`). Revoked, never deleted: events name it by `credential_id`."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens",
                             verbose_name=_("user"))
    name = models.CharField(_("name"), max_length=100, help_text=_("What it is for, e.g. \"billing service\"."))
    prefix = models.CharField(_("prefix"), max_length=20, unique=True, editable=False, help_text=_(
        "The key's public beginning, e.g. tok_ab12cd34: names the token in events."))
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    organizations = models.ManyToManyField(Organization, blank=True, related_name="api_tokens",
                                           verbose_name=_("organizations"),
                                           help_text=_("The organizations (of the user's) it may see and command."))
    all_organizations = models.BooleanField(_("all organizations"), default=False, help_text=_(
        "Every organization the user may see, now and later (no narrowing)."))
    roles = ArrayField(models.CharField(max_length=20), verbose_name=_("roles"),
                       help_text=_("read, submit, approve (see the README)."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.prefix})"

    @property
    def credential_id(self) -> str:
        """The token's public id, as events name the credential that wrote them."""
        return self.prefix


class ApprovalPolicy(models.Model):
    """One rule of an organization's four-eyes policy: refunds or cancels (in a currency or any) that
    a second person must approve, always or from a threshold. Every change is also an event of the
    organization's ApprovalPolicy stream (payments.approval_policies), with who made it."""

    COMMAND_TYPES = [("REFUND", _("Refund")), ("CANCEL", _("Cancel"))]

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="approval_rules",
                                     verbose_name=_("organization"))
    command_type = models.CharField(_("command"), max_length=10, choices=COMMAND_TYPES)
    currency = models.CharField(_("currency"), max_length=3, blank=True,
                                help_text=_("ISO 4217 code, e.g. EUR; empty: any currency."))
    threshold = models.DecimalField(_("threshold"), **MONEY, null=True, blank=True, help_text=_(
        "Approval needed from this amount on (in the currency); empty: always."))

    class Meta:
        ordering = ["organization_id", "command_type", "currency"]
        verbose_name = _("approval policy rule")
        verbose_name_plural = _("approval policy")
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
        if threshold is not None and currency_decimals(self.currency) is not None:
            threshold = Decimal(threshold).quantize(Decimal(1).scaleb(-currency_decimals(self.currency)))
        return ApprovalRule(self.command_type, self.currency, threshold)


class Approval(models.Model):
    """Read model of four-eyes requests, folded from the payment events (payments.projections)."""

    STATES = [("pending", _("Waiting")), ("approved", _("Approved")), ("rejected", _("Rejected")),
              ("refused", _("Refused by the payment rules")), ("expired", _("Expired"))]

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
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        indexes = [models.Index(fields=["organization_id", "state", "requested_at"], name="payments_approval_org"),
                   models.Index(fields=["payment_id", "requested_at"], name="payments_approval_payment")]

    def __str__(self):
        return f"{self.command_type.capitalize()} of {self.amount_text} {self.currency} on {self.payment_id}"

    @property
    def amount_text(self) -> str:
        return money_text(self.amount, self.currency)
