"""Events to append in the store's tests. A plain function rather than a fixture: it only builds values,
and the tests' writer threads and module-level helpers call it as well."""

from eventstore.events import NewEvent


def payment_events(count: int, *, event_type: str = "PaymentProcessed", correlation_id: str = "corr-1",
                   payment_id: str = "payment-1") -> list[NewEvent]:
    """Payment events whose data matches the schemas the payments app declares for them."""
    return [
        NewEvent(event_type, payment_data(event_type, f"{index + 1}.00", payment_id), {"correlation_id": correlation_id})
        for index in range(count)
    ]


def payment_data(event_type: str, amount: str, payment_id: str = "payment-1") -> dict:
    data = {"payment_id": payment_id, "user_id": "user-1", "amount": amount, "currency": "EUR", "description": ""}
    if event_type == "PaymentProcessed":
        data["organization_id"] = "org-1"
    if event_type == "PaymentRefunded":
        data["refunded_total"] = amount
    return data
