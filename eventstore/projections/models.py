"""The projection engine's tables: checkpoints, errors, events set aside, snapshots and the
tracking records of consumers outside the engine."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from eventstore.models import NAME_MAX_LENGTH, STREAM_ID_MAX_LENGTH


class ProjectionCheckpoint(models.Model):
    """How far a projection has applied the store, in commit-consistent order (transaction id, position).

    Written in the same transaction as the projection's read-model rows, so a crash can neither apply
    an event twice nor skip one. A row named "<projection>@rebuild" tracks a rebuild in progress.
    """

    name = models.CharField(_("name"), primary_key=True, max_length=NAME_MAX_LENGTH)
    transaction_id = models.BigIntegerField(_("transaction id"), default=0)
    position = models.BigIntegerField(_("position"), default=0)
    events_applied = models.BigIntegerField(_("events applied"), default=0)
    last_recorded_at = models.DateTimeField(_("last recorded at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    failing_position = models.BigIntegerField(_("failing position"), null=True, blank=True,
                                           help_text=_("Event it is stopped at."))

    class Meta:
        verbose_name = _("projection checkpoint")
        verbose_name_plural = _("projection checkpoints")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} at {self.position}"


class ProjectionError(models.Model):
    """A handler raised on an event: its projection stops there until the cause is fixed."""

    projection = models.CharField(_("projection"), max_length=NAME_MAX_LENGTH, db_index=True)
    position = models.BigIntegerField(_("position"))
    event_id = models.UUIDField(_("event id"))
    stream_id = models.CharField(_("stream id"), max_length=STREAM_ID_MAX_LENGTH)
    event_type = models.CharField(_("event type"), max_length=NAME_MAX_LENGTH)
    message = models.TextField(_("message"))
    traceback = models.TextField(_("traceback"), blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), auto_now_add=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("projection error")
        verbose_name_plural = _("projection errors")
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(fields=["projection", "position"], name="eventstore_projectionerror_once"),
        ]

    def __str__(self):
        return f"{self.projection} failed on {self.stream_id} ({self.event_type}): {self.message[:80]}"


class SetAsideEvent(models.Model):
    """An event that an operator set aside for one projection, which could not apply it: the
    projection passes over it instead of stopping there, and marks what its read models lose.

    Only users with the permission `eventstore.set_aside_event` may set an event aside (a management
    command and an admin action, both through `projection_set_aside.set_aside`); who, when and why
    are recorded with it. The event itself stays in the store, unchanged.
    """

    projection = models.CharField(max_length=NAME_MAX_LENGTH)
    position = models.BigIntegerField()
    event_id = models.UUIDField()
    stream_id = models.CharField(max_length=STREAM_ID_MAX_LENGTH)
    version = models.PositiveIntegerField()
    event_type = models.CharField(max_length=NAME_MAX_LENGTH)
    error = models.TextField(help_text="What the projection raised on the event.")
    reason = models.TextField(help_text="Why the operator set it aside.")
    set_aside_by = models.CharField(max_length=150, help_text="The operator's username.")
    set_aside_at = models.DateTimeField()

    class Meta:
        ordering = ["-set_aside_at"]
        verbose_name = "set-aside event"
        constraints = [
            models.UniqueConstraint(fields=["projection", "position"], name="eventstore_setasideevent_once"),
        ]
        permissions = [("set_aside_event", "Can set aside an event that a projection cannot apply")]

    def __str__(self):
        return f"{self.stream_id} v{self.version} {self.event_type}, set aside for {self.projection}"


class Snapshot(models.Model):
    """An aggregate's state at a version, kept apart from the events and disposable at any time."""

    stream_id = models.CharField(max_length=STREAM_ID_MAX_LENGTH, db_collation="C")
    version = models.PositiveIntegerField()
    aggregate_type = models.CharField(max_length=NAME_MAX_LENGTH)
    schema_version = models.PositiveIntegerField(default=1)
    state = models.JSONField()
    position = models.BigIntegerField(help_text="Position of the event at `version`.")
    recorded_at = models.DateTimeField(help_text="When the event at `version` was recorded.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["stream_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["stream_id", "version"], name="eventstore_snapshot_stream_version"),
        ]

    def __str__(self):
        return f"{self.stream_id} at v{self.version}"


class Tracking(models.Model):
    """A consumer's record that it has processed the store up to an upstream place, written in the
    same transaction as the consumer's own rows: a second record of the same place fails, so two
    runners, or a runner resumed after a crash, can never both commit the same events' effects."""

    consumer = models.CharField(max_length=NAME_MAX_LENGTH)
    transaction_id = models.BigIntegerField()
    position = models.BigIntegerField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["consumer", "transaction_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["consumer", "position"], name="eventstore_tracking_once"),
        ]
        indexes = [models.Index(fields=["consumer", "transaction_id", "position"], name="eventstore_tracking_place")]

    def __str__(self):
        return f"{self.consumer} at {self.position}"
