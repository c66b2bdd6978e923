"""A reconciliation run, the file it read (kept in chunks, never whole in memory), its lines and
findings. Working tables of the run; what the run found and each resolution are also recorded as
events of the `Reconciliation` aggregate (`payments.reconciliation.events`)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from payments.models import MONEY
from payments.reconciliation.matching import FINDINGS, OUTCOME_LABELS, Outcome


class Reconciliation(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a worker")
        READING = "reading", _("Reading the file")
        MATCHING = "matching", _("Matching with the trail")
        COMPLETED = "completed", pgettext_lazy("reconciliation status", "Completed")
        FAILED = "failed", pgettext_lazy("reconciliation status", "Failed")

    key = models.UUIDField(default=uuid.uuid4, editable=False, unique=True, help_text=_(
        "Names the run's workflows: ids restart with a new database, workflow ids do not."))
    organization = models.ForeignKey("payments.Organization", on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, help_text=_("Of the file's bytes: the same file is imported once."))
    size = models.BigIntegerField(help_text=_("Bytes."))
    mapping = models.CharField(max_length=20, help_text=_("The column mapping the file was read with."))
    header = models.JSONField(default=list, help_text=_("The file's first line, its column names."))
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    lines_total = models.PositiveIntegerField(default=0, help_text=_("Lines after the header."))
    lines_read = models.PositiveIntegerField(default=0)
    lines_matched = models.PositiveIntegerField(default=0)
    chunks = models.PositiveIntegerField(default=0)
    file_totals = models.JSONField(default=dict, help_text=_("Gross, fee and net by currency, of the lines read."))
    summary = models.JSONField(default=list, help_text=_("Count and sums by outcome and currency."))
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.JSONField(default=dict, help_text=_("Who uploaded it, as its events name them."))
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True)
    workflow_id = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("reconciliation")
        verbose_name_plural = _("reconciliations")
        constraints = [models.UniqueConstraint(fields=["organization", "sha256"], name="reconciliation_file_once")]

    def __str__(self):
        return f"Reconciliation {self.pk} of {self.file_name} ({self.organization_id})"

    @property
    def stream_id(self) -> str:
        return f"reconciliation-{self.pk}"

    @property
    def progress(self) -> float:
        """0 to 1: reading counts for half, matching for the other half."""
        if self.status == self.Status.COMPLETED:
            return 1.0
        if not self.lines_total:
            return 0.0
        return round((self.lines_read + self.lines_matched) / (2 * self.lines_total), 3)


class SettlementChunk(models.Model):
    """Consecutive records of the uploaded file, as CSV text (TOAST compresses it)."""

    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.CASCADE, related_name="+")
    index = models.PositiveIntegerField()
    first_line = models.PositiveIntegerField()
    lines = models.PositiveIntegerField()
    text = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["reconciliation", "index"], name="settlement_chunk_once")]


class SettlementLine(models.Model):
    """A line read from the file, kept for matching in payment-id order."""

    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.CASCADE, related_name="+")
    line_number = models.PositiveIntegerField()
    reference = models.CharField(max_length=120, db_collation="C")  # sorted as the store sorts stream ids
    kind = models.CharField(max_length=12)
    gross = models.DecimalField(**MONEY)
    fee = models.DecimalField(**MONEY)
    net = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    booking_date = models.DateField()
    payout_id = models.CharField(max_length=100, blank=True)
    provider_reference = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["reconciliation", "line_number"], name="settlement_line_once")]
        indexes = [models.Index(fields=["reconciliation", "reference", "line_number"],
                                name="settlement_line_by_reference")]


class Finding(models.Model):
    """A difference between the file and the trail, numbered 1, 2, ... in its run; resolved with a note."""

    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.CASCADE, related_name="findings")
    number = models.PositiveIntegerField(null=True, help_text=_("Given when the run completes."))
    outcome = models.CharField(max_length=20, choices=[(str(o), _(OUTCOME_LABELS[o])) for o in FINDINGS])
    message = models.TextField(help_text=_("In English, as recorded; the pages show it in the reader's language."))
    message_code = models.CharField(max_length=40, blank=True, help_text=_(
        "What the message says (payments.reconciliation.texts); empty: show the message as it is."))
    message_params = models.JSONField(default=dict, blank=True, help_text=_(
        "The message's parameters: amounts as decimal strings, dates in ISO 8601."))
    line_number = models.PositiveIntegerField(null=True)
    payment_id = models.CharField(max_length=120, blank=True)
    kind = models.CharField(max_length=12, blank=True)
    gross = models.DecimalField(**MONEY, null=True)
    fee = models.DecimalField(**MONEY, null=True)
    net = models.DecimalField(**MONEY, null=True)
    currency = models.CharField(max_length=3, blank=True)
    event_id = models.CharField(max_length=36, blank=True, help_text=_("The trail's event it was compared with."))
    trail_amount = models.DecimalField(**MONEY, null=True)
    trail_currency = models.CharField(max_length=3, blank=True)
    resolved_at = models.DateTimeField(null=True)
    resolved_by = models.JSONField(null=True, help_text=_("The actor who resolved it."))
    resolution_note = models.TextField(blank=True)
    resolution_event_id = models.CharField(max_length=36, blank=True)

    class Meta:
        ordering = ["reconciliation", "number"]
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        constraints = [models.UniqueConstraint(fields=["reconciliation", "number"], name="finding_number_once")]

    def __str__(self):
        return f"Finding {self.number} of reconciliation {self.reconciliation_id}"

    def get_outcome_label(self) -> str:
        return gettext(OUTCOME_LABELS[Outcome(self.outcome)])
