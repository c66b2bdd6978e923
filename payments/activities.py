"""Payment activities: sync functions over the Django ORM, run by the worker in a thread pool.

Appending goes through the event store's own activity ("eventstore.append_events").
"""

import logging
from datetime import datetime
from itertools import islice

from temporalio import activity
from temporalio.exceptions import ApplicationError

from config.temporal import django_activity
from eventstore import selectors as store
from eventstore.projections import apply_all_pending
from payments import selectors
from payments.domain import CommandRejected
from payments.messages import AppliedEvent, LoadedPayment, LoadPaymentRequest, PublishRequest
from payments.queries import EventView, HistoryAnswer, HistoryQuery

logger = logging.getLogger(__name__)


@activity.defn(name="payments.load_payment")
@django_activity
def load_payment(request: LoadPaymentRequest) -> LoadedPayment:
    payment = selectors.load_payment(request.payment_id)
    applied = selectors.events_of_command(request.payment_id, request.command_id) if payment.exists else []
    state_after = selectors.load_payment(request.payment_id, version=applied[-1].version) if applied else None
    return LoadedPayment(
        state=payment.to_snapshot(),
        applied=[AppliedEvent(str(e.event_id), e.event_type, e.version, e.data) for e in applied],
        state_after_applied=state_after.to_snapshot() if state_after else None,
    )


@activity.defn(name="payments.publish_events")
@django_activity
def publish_events(request: PublishRequest) -> None:
    """Apply freshly appended events to the projections readers expect right away (the payment
    summary), rather than at the catch-up loop's next turn.

    A projection busy in another runner is skipped: that runner or the catch-up loop applies them.
    """
    outcomes = apply_all_pending(max_batches=5, prompt_only=True)
    logger.debug("Published %s %s: %s", request.stream_id, request.positions, outcomes)


def _view(event) -> EventView:
    return EventView(str(event.event_id), event.stream_id, event.event_type, event.version, event.position,
                     event.recorded_at.isoformat(), event.data, event.metadata)


def _time(text: str | None, name: str):
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ApplicationError(f"'{name}' must be an ISO 8601 date and time with an offset, not {text!r}.",
                               type="InvalidQuery", non_retryable=True)
    return moment


@activity.defn(name="payments.query_history")
@django_activity
def query_history(query: HistoryQuery) -> HistoryAnswer:
    """History of a payment, an event search or a correlation timeline, one page at a time."""
    try:
        return _answer(query, max(1, min(query.limit, 1000)))
    except CommandRejected as rejection:  # a malformed payment id
        raise ApplicationError(str(rejection), type="InvalidQuery", non_retryable=True) from None


def _answer(query: HistoryQuery, limit: int) -> HistoryAnswer:
    if query.operation == "history" and query.payment_id:
        events = list(islice(selectors.payment_history(query.payment_id, after_version=query.after_position), limit + 1))
        more = len(events) > limit  # a history pages by version: the cursor is the last version seen
        return HistoryAnswer([_view(e) for e in events[:limit]], events[limit - 1].version if more else None)
    if query.operation == "timeline" and query.correlation_id:
        events = list(islice(store.events_by_correlation(query.correlation_id, after_position=query.after_position),
                             limit + 1))
        more = len(events) > limit
        return HistoryAnswer([_view(e) for e in events[:limit]], events[limit - 1].position if more else None)
    if query.operation == "search":
        page = store.search_events(store.EventSearch(
            event_type=query.event_type, aggregate_type=query.aggregate_type,
            organization_ids=tuple(query.organization_ids) if query.organization_ids is not None else None,
            currency=query.currency, since=_time(query.since, "since"), until=_time(query.until, "until"),
        ), after_position=query.after_position, limit=limit)
        return HistoryAnswer([_view(e) for e in page.events], page.next_after_position)
    raise ApplicationError(
        f"Unknown or incomplete query {query.operation!r}: use history (payment_id), search or timeline "
        "(correlation_id).", type="InvalidQuery", non_retryable=True)


ACTIVITIES = [load_payment, publish_events, query_history]
