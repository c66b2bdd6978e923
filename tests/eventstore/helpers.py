from eventstore.events import NewEvent
from eventstore.models import Event


def payment_events(count: int, *, event_type: str = "PaymentProcessed", correlation_id: str = "corr-1") -> list[NewEvent]:
    return [
        NewEvent(event_type, {"amount": f"{index + 1}.00", "currency": "EUR"}, {"correlation_id": correlation_id})
        for index in range(count)
    ]


def stored_count() -> int:
    return Event.objects.count()
