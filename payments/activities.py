"""Payment activities: sync functions over the Django ORM, run by the worker in a thread pool.

Appending goes through the event store's own activity ("eventstore.append_events").
"""

import logging

from temporalio import activity

from config.temporal import django_activity
from eventstore.projections import apply_all_pending
from payments import selectors
from payments.messages import AppliedEvent, LoadedPayment, LoadPaymentRequest, PublishRequest

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
    """Apply freshly appended events to every projection now, rather than at the catch-up loop's next turn.

    A projection busy in another runner is skipped: that runner or the catch-up loop applies them.
    """
    outcomes = apply_all_pending(max_batches=5)
    logger.debug("Published %s %s: %s", request.stream_id, request.positions, outcomes)


ACTIVITIES = [load_payment, publish_events]
