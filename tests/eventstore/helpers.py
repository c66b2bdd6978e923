"""Events to append in the store's tests. A plain function rather than a fixture: it only builds values,
and the tests' writer threads and module-level helpers call it as well."""

from eventstore.events import NewEvent


def payment_events(count: int, *, event_type: str = "PaymentProcessed", correlation_id: str = "corr-1") -> list[NewEvent]:
    return [
        NewEvent(event_type, {"amount": f"{index + 1}.00", "currency": "EUR"}, {"correlation_id": correlation_id})
        for index in range(count)
    ]
