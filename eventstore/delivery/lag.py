"""How far behind each subscription is, its last error and how fast it delivers: for
`manage.py subscription_status` and the dashboard."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from eventstore import selectors
from eventstore.delivery import subscriptions
from eventstore.delivery.models import Subscription, WebhookDelivery

LAG_COUNT_LIMIT = 100_000  # events behind are counted up to this many
RATE_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class SubscriptionLag:
    name: str
    url: str  # its webhook endpoint's, if it has one
    paused: bool
    events_behind: int
    seconds_behind: float  # age of the oldest event not delivered yet
    events_delivered: int
    deliveries_per_second: float  # successful POSTs over the last RATE_WINDOW
    failures: int  # failed POSTs over the last RATE_WINDOW
    last_error: str
    last_error_at: object


def lag(*, organizations: list[str] | None = None) -> list[SubscriptionLag]:
    """Every subscription's lag, or (given `organizations`) only those of these organizations."""
    recent = _recent_deliveries()
    subscriptions_shown = Subscription.objects.select_related("webhook")
    if organizations is not None:
        subscriptions_shown = subscriptions_shown.filter(organization_id__in=organizations)
    return [lag_of(subscription, recent.get(subscription.pk, {})) for subscription in subscriptions_shown]


def _recent_deliveries(**filters) -> dict[int, dict]:
    """Successful and all POSTs over the last RATE_WINDOW, by subscription."""
    rows = (WebhookDelivery.objects.filter(attempted_at__gte=timezone.now() - RATE_WINDOW, **filters)
            .values("endpoint__subscription_id").order_by()
            .annotate(ok=Count("id", filter=Q(status_code__gte=200, status_code__lt=300)), total=Count("id")))
    return {row["endpoint__subscription_id"]: row for row in rows}


def lag_of(subscription: Subscription, recent: dict | None = None) -> SubscriptionLag:
    if recent is None:
        recent = _recent_deliveries(endpoint__subscription_id=subscription.pk).get(subscription.pk, {})
    pending = selectors.matching_events(subscriptions.checkpoint_of(subscription), subscriptions.event_filter(subscription))
    oldest = pending.order_by("transaction_id", "position").values_list("recorded_at", flat=True).first()
    webhook = getattr(subscription, "webhook", None)
    ok = recent.get("ok", 0)
    return SubscriptionLag(
        name=subscription.name, url=webhook.url if webhook else "", paused=subscription.paused,
        events_behind=pending.values("position")[:LAG_COUNT_LIMIT].count(),
        seconds_behind=max((timezone.now() - oldest).total_seconds(), 0.0) if oldest else 0.0,
        events_delivered=subscription.events_delivered,
        deliveries_per_second=ok / RATE_WINDOW.total_seconds(), failures=recent.get("total", 0) - ok,
        last_error=subscription.last_error, last_error_at=subscription.last_error_at,
    )
