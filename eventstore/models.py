"""The events table and the stream heads recorded apart from it.

Rows are written only by `eventstore.store.append_events`; database triggers (migration 0002)
refuse UPDATE, DELETE and TRUNCATE of events, and keep `Stream` as the per-stream chain head.
"""

from django.db import models
from django.db.models.fields.json import KT

STREAM_ID_MAX_LENGTH = 200
NAME_MAX_LENGTH = 100


class CurrentTransactionId(models.Func):
    """The 64-bit id of the inserting transaction: readers use it to never skip a late commit."""

    template = "(pg_current_xact_id()::text::bigint)"
    output_field = models.BigIntegerField()


class Event(models.Model):
    position = models.BigIntegerField(primary_key=True, help_text="Global order, from a sequence.")
    event_id = models.UUIDField(unique=True, help_text="Idempotency key of the append.")
    stream_id = models.CharField(max_length=STREAM_ID_MAX_LENGTH, db_collation="C")
    aggregate_type = models.CharField(max_length=NAME_MAX_LENGTH)
    version = models.PositiveIntegerField()
    event_type = models.CharField(max_length=NAME_MAX_LENGTH)
    data = models.JSONField()
    metadata = models.JSONField(default=dict)
    recorded_at = models.DateTimeField()
    transaction_id = models.BigIntegerField(db_default=CurrentTransactionId(), editable=False)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["stream_id", "version"], name="eventstore_event_stream_version"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="eventstore_event_version_positive"),
        ]
        indexes = [
            models.Index(fields=["transaction_id", "position"], name="eventstore_event_commit_order"),
            models.Index(fields=["event_type", "recorded_at"], name="eventstore_event_type_time"),
            models.Index(KT("metadata__correlation_id"), "position", name="eventstore_event_correlation"),
            models.Index(KT("metadata__organization_id"), "event_type", "recorded_at",
                         name="eventstore_event_organization"),
        ]

    def __str__(self):
        return f"{self.stream_id} v{self.version} {self.event_type}"


class Stream(models.Model):
    """The head of each stream's hash chain, maintained by a trigger on every insert of events.

    A stream's newest event, or a whole stream, can be removed without breaking the chain that
    remains; comparing with these heads is what catches it.
    """

    stream_id = models.CharField(primary_key=True, max_length=STREAM_ID_MAX_LENGTH, db_collation="C")
    aggregate_type = models.CharField(max_length=NAME_MAX_LENGTH)
    version = models.PositiveIntegerField()
    head_position = models.BigIntegerField()
    head_hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["stream_id"]

    def __str__(self):
        return f"{self.stream_id} at v{self.version}"


class Seal(models.Model):
    """A record, made by a successful verify_event_chain, of everything committed before it.

    It covers every event whose transaction id is below `transaction_horizon` (no such event can be
    added later) by their count and an order-independent digest of their hashes. Removing a whole
    stream together with its head still changes what an earlier seal covered. Seals chain to each
    other; the newest seal's hash, kept outside the database, also exposes a full rewrite.
    """

    sealed_at = models.DateTimeField()
    transaction_horizon = models.BigIntegerField()
    event_count = models.BigIntegerField()
    events_digest = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["transaction_horizon", "id"]

    def __str__(self):
        return f"seal of {self.event_count} events at {self.sealed_at:%Y-%m-%d %H:%M:%S}"


class ProjectionCheckpoint(models.Model):
    """How far a projection has applied the store, in commit-consistent order (transaction id, position).

    Written in the same transaction as the projection's read-model rows, so a crash can neither apply
    an event twice nor skip one. A row named "<projection>@rebuild" tracks a rebuild in progress.
    """

    name = models.CharField(primary_key=True, max_length=NAME_MAX_LENGTH)
    transaction_id = models.BigIntegerField(default=0)
    position = models.BigIntegerField(default=0)
    events_applied = models.BigIntegerField(default=0)
    last_recorded_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    failing_position = models.BigIntegerField(null=True, blank=True, help_text="Event it is stopped at.")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} at {self.position}"


class ProjectionError(models.Model):
    """A handler raised on an event: its projection stops there until the cause is fixed."""

    projection = models.CharField(max_length=NAME_MAX_LENGTH, db_index=True)
    position = models.BigIntegerField()
    event_id = models.UUIDField()
    stream_id = models.CharField(max_length=STREAM_ID_MAX_LENGTH)
    event_type = models.CharField(max_length=NAME_MAX_LENGTH)
    message = models.TextField()
    traceback = models.TextField(blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=1)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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


class ChainVerification(models.Model):
    """The outcome of each verify_event_chain run, for the dashboard and operators."""

    ran_at = models.DateTimeField(auto_now_add=True)
    ok = models.BooleanField()
    events_checked = models.BigIntegerField()
    streams_checked = models.BigIntegerField()
    problem_count = models.BigIntegerField()
    problems = models.TextField(blank=True, help_text="The first problems found, one per line.")
    seal_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-ran_at"]
        get_latest_by = "ran_at"

    def __str__(self):
        verdict = "intact" if self.ok else f"{self.problem_count} problems"
        return f"{self.ran_at:%Y-%m-%d %H:%M} {verdict}"


class Subscription(models.Model):
    """A durable consumer of the store: the events matching its filter, delivered in the store's
    commit-consistent order (`selectors.read_matching`) from its checkpoint, at least once.

    The checkpoint is a place in that order (transaction id, position), never a bare position, so a
    late commit is never skipped. Only `subscriptions.advance` moves it forward, and only from the
    place its caller read from, so a replay that moves it back is never overwritten by a delivery
    already under way.
    """

    name = models.CharField(max_length=NAME_MAX_LENGTH, unique=True)
    aggregate_types = models.JSONField(default=list, blank=True, help_text="Empty: every aggregate type.")
    event_types = models.JSONField(default=list, blank=True, help_text="Empty: every event type.")
    organization_id = models.CharField(max_length=NAME_MAX_LENGTH, blank=True,
                                       help_text="metadata.organization_id of the events; empty: every one.")
    transaction_id = models.BigIntegerField(default=0)
    position = models.BigIntegerField(default=0)
    paused = models.BooleanField(default=False)
    events_delivered = models.BigIntegerField(default=0)
    last_delivered_at = models.DateTimeField(null=True, blank=True)
    last_event_recorded_at = models.DateTimeField(null=True, blank=True, help_text="recorded_at of the last event delivered.")
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


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


class WebhookEndpoint(models.Model):
    """An HTTPS endpoint that receives its subscription's events, one signed POST per event
    (Standard Webhooks), delivered by a Temporal workflow of its own."""

    subscription = models.OneToOneField(Subscription, on_delete=models.CASCADE, related_name="webhook")
    url = models.URLField(max_length=2000)
    secret = models.CharField(max_length=100, help_text="whsec_ and base64: the receivers' key to verify signatures.")
    description = models.CharField(max_length=200, blank=True)
    created_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["subscription__name"]

    def __str__(self):
        return f"{self.url} ({self.subscription.organization_id or 'all organizations'})"


class WebhookDelivery(models.Model):
    """One attempt to deliver one event to one endpoint: the delivery log."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    webhook_id = models.CharField(max_length=100, help_text="The webhook-id header: the same on every attempt.")
    event_id = models.UUIDField()
    position = models.BigIntegerField()
    event_type = models.CharField(max_length=NAME_MAX_LENGTH)
    attempted_at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.FloatField()
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-attempted_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["endpoint", "-attempted_at"], name="eventstore_delivery_recent")]

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def __str__(self):
        return f"{self.event_type} {self.webhook_id}: {self.status_code or self.error[:60]}"
