"""Read models of payments. Each is a projection of the event store, never a source of truth:
`manage.py rebuild_projections` rebuilds them from history at any time."""

import functools
import zoneinfo

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.db import models

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
    if _decimals(code) is None:
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

    id = models.CharField(primary_key=True, max_length=100, help_text="As used in commands, e.g. org-456.")
    name = models.CharField(max_length=200)
    time_zone = models.CharField(
        max_length=64, default=default_time_zone, validators=[validate_time_zone],
        help_text="IANA time zone, e.g. Europe/Paris: statements, the dashboard and date filters cut days and "
                  "months at its midnight.")
    reporting_currency = models.CharField(
        max_length=3, default=default_reporting_currency, validators=[validate_currency],
        help_text="ISO 4217 code, e.g. EUR: the currency statements show first.")
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


class ApiToken(models.Model):
    """A named API credential of one user, limited to some of the user's organizations and to roles
    (`payments.tokens.ROLES`). Only the SHA-256 of its key is stored; the key is shown once, when made
    (`payments.tokens.issue_api_token`). Revoked, never deleted: events name it by `credential_id`."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What it is for, e.g. \"billing service\".")
    prefix = models.CharField(max_length=20, unique=True, editable=False,
                              help_text="The key's public beginning, e.g. tok_ab12cd34: names the token in events.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    organizations = models.ManyToManyField(Organization, blank=True, related_name="api_tokens",
                                           help_text="The organizations (of the user's) it may see and command.")
    all_organizations = models.BooleanField(
        default=False, help_text="Every organization the user may see, now and later (no narrowing).")
    roles = ArrayField(models.CharField(max_length=20), help_text="read, submit, approve (see the README).")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.name} ({self.prefix})"

    @property
    def credential_id(self) -> str:
        """The token's public id, as events name the credential that wrote them."""
        return self.prefix
