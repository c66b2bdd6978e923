"""Payment activities: sync functions over the Django ORM, run by the worker in a thread pool.

Appending goes through the event store's own activity ("eventstore.append_events").
"""

import logging

from temporalio import activity

from config.temporal import django_activity
from eventstore import selectors
from payments.messages import PaymentEvent, PaymentHistory, PublishRequest

logger = logging.getLogger(__name__)


@activity.defn(name="payments.load_payment")
@django_activity
def load_payment(stream_id: str) -> PaymentHistory:
    events = list(selectors.read_stream(stream_id))
    return PaymentHistory(
        stream_id=stream_id,
        version=events[-1].version if events else 0,
        events=[
            PaymentEvent(event.event_type, event.data, str(event.event_id), event.metadata.get("causation_id", ""))
            for event in events
        ],
    )


@activity.defn(name="payments.publish_events")
@django_activity
def publish_events(request: PublishRequest) -> None:
    """Hand freshly appended events to the projections (engine: see the projections issue)."""
    logger.debug("Published %s positions %s", request.stream_id, request.positions)


ACTIVITIES = [load_payment, publish_events]
