"""Payment activities: sync functions over the Django ORM, run by the worker in a thread pool.

Each implements a signature of `payments.activity_signatures`, which is what workflows call.
Appending and applying the prompt projections go through the event store's own activities.
"""

from itertools import islice

from temporalio.exceptions import ApplicationError

from eventstore import selectors as store
from eventstore.temporal.errors import errors_are_final
from eventstore.temporal.inputs import parse_instant
from eventstore.temporal.messages import stored_event
from eventstore.temporal.worker import django_activity, implements
from payments import activity_signatures as signatures
from payments import selectors
from payments.domain import CommandRejected, require_canonical_payment_id
from payments.messages import (
    PAYMENT_UNREADABLE,
    HistoryAnswer,
    HistoryQuery,
    LoadedPayment,
    LoadPaymentRequest,
)

INVALID_QUERY = "InvalidQuery"
# What folding an event the payment rules cannot apply raises (missing or malformed fields).
UNFOLDABLE = (KeyError, TypeError, ValueError, ArithmeticError, CommandRejected)


@implements(signatures.load_payment)
@django_activity
def load_payment(request: LoadPaymentRequest) -> LoadedPayment:
    """The payment now, and this command's own events if an earlier run appended them. A history the
    rules cannot fold fails at once (retrying cannot fix it), naming the payment's organization so
    that the workflow tells nobody else anything of it."""
    try:
        payment = selectors.load_payment(request.payment_id)
        applied = selectors.events_of_command(request.payment_id, request.command_id) if payment.exists else []
        state_after = selectors.load_payment(request.payment_id, version=applied[-1].version) if applied else None
    except UNFOLDABLE as error:
        raise ApplicationError(
            f"The history of {request.payment_id} cannot be folded ({type(error).__name__}: {error}).",
            selectors.payment_owner(request.payment_id), type=PAYMENT_UNREADABLE, non_retryable=True,
        ) from error
    return LoadedPayment(
        state=payment.to_snapshot(),
        applied=[stored_event(event) for event in applied],
        state_after_applied=state_after.to_snapshot() if state_after else None,
        latest_occurred_at=selectors.latest_occurred_at().isoformat(),
        projections_with_append=True,
    )


@implements(signatures.query_history)
@django_activity
@errors_are_final(CommandRejected, type_name=INVALID_QUERY)  # a malformed payment id
def query_history(query: HistoryQuery) -> HistoryAnswer:
    """History of a payment, an event search or a correlation timeline, one page at a time."""
    limit = max(1, min(query.limit, 1000))
    if query.operation == "history" and query.payment_id:
        payment_id = require_canonical_payment_id(query.payment_id)
        events = list(islice(selectors.payment_history(payment_id, after_version=query.after_position), limit + 1))
        more = len(events) > limit  # a history pages by version: the cursor is the last version seen
        return HistoryAnswer([stored_event(e) for e in events[:limit]], events[limit - 1].version if more else None)
    if query.operation == "timeline" and query.correlation_id:
        events = list(islice(store.events_by_correlation(query.correlation_id, after_position=query.after_position),
                             limit + 1))
        more = len(events) > limit
        return HistoryAnswer([stored_event(e) for e in events[:limit]], events[limit - 1].position if more else None)
    if query.operation == "search":
        page = store.search_events(_search(query), after_position=query.after_position, limit=limit)
        return HistoryAnswer([stored_event(e) for e in page.events], page.next_after_position)
    raise ApplicationError(
        f"Unknown or incomplete query {query.operation!r}: use history (payment_id), search or timeline "
        "(correlation_id).", type=INVALID_QUERY, non_retryable=True)


def _search(query: HistoryQuery) -> store.EventSearch:
    return store.EventSearch(
        event_type=query.event_type, aggregate_type=query.aggregate_type,
        organization_ids=tuple(query.organization_ids) if query.organization_ids is not None else None,
        currency=query.currency,
        since=parse_instant(query.since, "since", error_type=INVALID_QUERY),
        until=parse_instant(query.until, "until", error_type=INVALID_QUERY),
    )


ACTIVITIES = [load_payment, query_history]
