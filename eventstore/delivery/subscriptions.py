"""Durable subscriptions and tracking records: how consumers follow the store without skipping or
doubling anything.

A `Subscription` is a named consumer with a filter and a checkpoint in the store's commit-consistent
order. `next_page` reads what it has not seen; `advance` moves its checkpoint forward only from the
place the caller read from (compare-and-set), so a replay (`rewind`) is never undone by a delivery
that was already under way. Webhook endpoints (`eventstore.delivery.webhooks`) are subscriptions.
Consumers inside the project that write rows of their own use tracking records instead
(`eventstore.projections.tracking`).
"""

import re
import time
from datetime import UTC, datetime
from typing import Callable

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from eventstore import selectors, wakeups
from eventstore.delivery.cursors import COMMIT_CURSOR_PATTERN, commit_place
from eventstore.delivery.models import Subscription
from eventstore.events import START, Checkpoint, RecordedEvent
from eventstore.models import Event


def event_filter(subscription: Subscription) -> selectors.EventFilter:
    return selectors.EventFilter(
        aggregate_types=tuple(subscription.aggregate_types), event_types=tuple(subscription.event_types),
        organization_ids=(subscription.organization_id,) if subscription.organization_id else None,
    )


def checkpoint_of(subscription: Subscription) -> Checkpoint:
    return Checkpoint(subscription.transaction_id, subscription.position)


def next_page(subscription: Subscription, *, limit: int) -> selectors.MatchingPage:
    return selectors.read_matching(checkpoint_of(subscription), event_filter(subscription), limit=limit)


def wait_for_page(after: Checkpoint, matching: selectors.EventFilter, *, limit: int, wait: float,
                  still_wanted: Callable[[], bool] = lambda: True) -> selectors.MatchingPage:
    """The next page after `after`; if it is empty, wait up to `wait` seconds for one, woken by
    commits and polling every SUBSCRIPTION_POLL_SECONDS as the fallback."""
    deadline = time.monotonic() + wait
    while True:
        seen = wakeups.notifications_seen()
        page = selectors.read_matching(after, matching, limit=limit)
        remaining = deadline - time.monotonic()
        if page.events or remaining <= 0 or not still_wanted():
            return page
        after = page.checkpoint
        wakeups.wait_for_events(seen, min(remaining, settings.SUBSCRIPTION_POLL_SECONDS))


def advance(subscription: Subscription, *, read_from: Checkpoint, to: Checkpoint,
            delivered: list[RecordedEvent] = ()) -> bool:
    """Move the checkpoint from `read_from` to `to`; False (nothing changed) if it is no longer at
    `read_from` (a replay moved it meanwhile)."""
    changes = dict(transaction_id=to.transaction_id, position=to.position)
    if delivered:
        changes.update(events_delivered=F("events_delivered") + len(delivered), last_delivered_at=timezone.now(),
                       last_event_recorded_at=delivered[-1].recorded_at, last_error="", last_error_at=None)
    moved = Subscription.objects.filter(
        pk=subscription.pk, transaction_id=read_from.transaction_id, position=read_from.position,
    ).update(**changes)
    if moved:
        subscription.transaction_id, subscription.position = to.transaction_id, to.position
    return bool(moved)


def record_error(subscription: Subscription, message: str) -> None:
    Subscription.objects.filter(pk=subscription.pk).update(last_error=message[:2000], last_error_at=timezone.now())


def set_paused(subscription: Subscription, paused: bool) -> None:
    Subscription.objects.filter(pk=subscription.pk).update(paused=paused)
    subscription.paused = paused


def rewind(subscription: Subscription, *, to: Checkpoint) -> None:
    """Replay: deliver again everything after `to` (the start of the store with START)."""
    Subscription.objects.filter(pk=subscription.pk).update(transaction_id=to.transaction_id, position=to.position)
    subscription.transaction_id, subscription.position = to.transaction_id, to.position


def place_before(moment: datetime) -> Checkpoint:
    """The place just before the first committed event recorded at or after `moment`: replaying from
    it delivers that event and everything after it (and anything committed late with an earlier
    time but later in commit order)."""
    first = (Event.objects.filter(recorded_at__gte=moment).filter(selectors.committed_after(START))
             .order_by("transaction_id", "position").values_list("transaction_id", "position").first())
    if first is None:
        last = (Event.objects.filter(selectors.committed_after(START)).order_by("-transaction_id", "-position")
                .values_list("transaction_id", "position").first())
        return Checkpoint(*last) if last else START
    return Checkpoint(first[0], first[1] - 1)


def replay_point(text: str) -> Checkpoint:
    """Where a replay starts: the start of the store (empty), a feed cursor, or an ISO 8601 time.
    ValueError for anything else."""
    text = text.strip()
    if not text:
        return START
    if re.fullmatch(COMMIT_CURSOR_PATTERN[1:-1], text):
        return commit_place(text)
    moment = parse_datetime(text)
    if moment is None:
        raise ValueError(f"{text!r} is neither a feed cursor nor an ISO 8601 time.")
    return place_before(moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC))
