"""What verify_event_chain leaves behind: seals over everything verified, and a record of each run."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Seal(models.Model):
    """A record, made by a successful verify_event_chain, of everything committed before it.

    It covers every event whose transaction id is below `transaction_horizon` (no such event can be
    added later) by their count and an order-independent digest of their hashes. Removing a whole
    stream together with its head still changes what an earlier seal covered. Seals chain to each
    other; the newest seal's hash, kept outside the database, also exposes a full rewrite.
    """

    sealed_at = models.DateTimeField(_("sealed at"))
    transaction_horizon = models.BigIntegerField(_("transaction horizon"))
    event_count = models.BigIntegerField(_("event count"))
    events_digest = models.CharField(_("events digest"), max_length=64)
    prev_hash = models.CharField(_("prev hash"), max_length=64, unique=True)
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        verbose_name = _("seal")
        verbose_name_plural = _("seals")
        ordering = ["transaction_horizon", "id"]

    def __str__(self):
        return f"seal of {self.event_count} events at {self.sealed_at:%Y-%m-%d %H:%M:%S}"


class ChainVerification(models.Model):
    """The outcome of each verify_event_chain run, for the dashboard and operators: which kind ran and
    the range it covered.

    A full pass checks every event; an incremental pass the events committed since the last verified
    point (transaction ids from `from_transaction`, or positions after `from_position`), their links
    to what was verified before, and the ledger's leaves from `from_tree_size` to `tree_size`.
    """

    FULL, INCREMENTAL = "full", "incremental"
    KINDS = [(FULL, _("full")), (INCREMENTAL, _("incremental"))]

    ran_at = models.DateTimeField(_("ran at"), auto_now_add=True)
    ok = models.BooleanField(_("ok"))
    events_checked = models.BigIntegerField(_("events checked"))
    streams_checked = models.BigIntegerField(_("streams checked"))
    problem_count = models.BigIntegerField(_("problem count"))
    problems = models.TextField(_("problems"), blank=True, help_text=_("The first problems found, one per line."))
    seal_hash = models.CharField(_("seal hash"), max_length=64, blank=True)
    kind = models.CharField(_("kind"), max_length=11, choices=KINDS, default=FULL)
    from_transaction = models.BigIntegerField(_("from transaction"), null=True,
                                              help_text=_("Incremental: the previous run's horizon."))
    transaction_horizon = models.BigIntegerField(_("transaction horizon"), null=True, help_text=_(
        "Every transaction below it had committed or aborted when the run took its snapshot."))
    from_position = models.BigIntegerField(_("from position"), null=True,
                                           help_text=_("Incremental: the previous run's last position."))
    last_position = models.BigIntegerField(_("last position"), null=True,
                                           help_text=_("The last position handed out at the snapshot."))
    from_tree_size = models.BigIntegerField(_("from tree size"), null=True,
                                            help_text=_("Ledger leaves verified before this run."))
    tree_size = models.BigIntegerField(_("tree size"), null=True,
                                       help_text=_("The signed head the ledger was verified up to."))

    class Meta:
        verbose_name = _("chain verification")
        verbose_name_plural = _("chain verifications")
        ordering = ["-ran_at"]
        get_latest_by = "ran_at"

    def __str__(self):
        verdict = "intact" if self.ok else f"{self.problem_count} problems"
        return f"{self.ran_at:%Y-%m-%d %H:%M} {self.kind} {verdict}"
