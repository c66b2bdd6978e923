"""Subscriptions to the store, and the webhook endpoints that deliver them with their delivery log."""

from django.db import models

from eventstore.models import NAME_MAX_LENGTH


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
