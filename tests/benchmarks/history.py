"""A year of synthetic payment history for the read benchmarks (analytics, admin, API)."""

import random
from datetime import UTC, datetime, timedelta

from tests.synthetic import SyntheticEvent

YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
LONG_PAYMENT, HISTORY_LENGTH = "payment-y1", 50
ORGANIZATIONS = [f"org-{n}" for n in range(20)]
CURRENCIES = ["EUR", "USD", "GBP", "CHF"]


def year_of_history(payments: int, events_per_payment: int, seed: int = 1, *, first: int = 0):
    """Payments spread over a year, each created then refunded 1.00 at a time, with the data the
    payment domain writes (so read models can be built from them too); LONG_PAYMENT has
    HISTORY_LENGTH events. `first` numbers the payments on from an earlier call's, to add more."""
    rng = random.Random(seed)
    for index in range(first, first + payments):
        stream_id, currency = f"payment-y{index}", rng.choice(CURRENCIES)
        organization, user = rng.choice(ORGANIZATIONS), f"user-{rng.randint(1, 500)}"
        at = YEAR_START + timedelta(seconds=rng.randint(0, 364 * 86400))
        metadata = {"organization_id": organization, "user_id": user, "correlation_id": f"order-{index // 2}"}
        amount = f"{rng.randint(100, 10**6)}.{rng.randint(0, 99):02d}"
        yield SyntheticEvent(stream_id, "PaymentProcessed", {
            "payment_id": stream_id, "organization_id": organization, "user_id": user, "amount": amount,
            "currency": currency, "description": f"Invoice {index}"}, at, metadata)
        for refund in range(1, (HISTORY_LENGTH if stream_id == LONG_PAYMENT else events_per_payment)):
            at += timedelta(minutes=rng.randint(1, 600))
            yield SyntheticEvent(stream_id, "PaymentRefunded", {
                "payment_id": stream_id, "user_id": user, "amount": "1.00", "currency": currency,
                "refunded_total": f"{refund}.00", "description": ""}, at, metadata)
