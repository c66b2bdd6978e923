"""A payment written under schema version 1 of its events (before business time): what every read
path must show upcast, while the stored rows and their hashes stay as written."""

from datetime import UTC, datetime

from tests.synthetic import SyntheticEvent, load_history

PAYMENT = "payment-v1-old"
RECORDED = datetime(2023, 5, 10, 12, 0, 0, 250000, tzinfo=UTC)
READ_AS = "2023-05-10T12:00:00.250000+00:00"  # its upcast `occurred_at`: when it was recorded
METADATA = {"organization_id": "org-acme", "user_id": "alice", "correlation_id": "order-v1", "schema_version": 1}


def write_version_one_payment() -> str:
    """Its PaymentProcessed (schema_version 1 in its metadata) and a PaymentRefunded that names no
    schema version, hence version 1 as well; returns the payment's id (its stream)."""
    load_history([
        SyntheticEvent(PAYMENT, "PaymentProcessed", {"payment_id": PAYMENT, "organization_id": "org-acme",
                                                     "user_id": "alice", "amount": "80.00", "currency": "EUR",
                                                     "description": "Written before business time"},
                       RECORDED, METADATA),
        SyntheticEvent(PAYMENT, "PaymentRefunded", {"payment_id": PAYMENT, "user_id": "alice", "amount": "20.00",
                                                    "currency": "EUR", "refunded_total": "20.00"},
                       datetime(2023, 5, 12, 8, tzinfo=UTC), {k: v for k, v in METADATA.items() if k != "schema_version"}),
    ])
    return PAYMENT
