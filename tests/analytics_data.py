"""Random payment history over time for the analytics tests, with a brute-force reference in Python."""

import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from tests.synthetic import SyntheticEvent, load_history

CURRENCIES = {"EUR": 2, "USD": 2, "JPY": 0, "KWD": 3}
ORGANIZATIONS = ["org-a", "org-b", "org-c"]


def random_history(*, payments: int, start: datetime, days: int, seed: int = 1) -> list[SyntheticEvent]:
    """Payments spread over `days` (some exactly at midnight UTC and at local bucket edges), with refunds."""
    rng, events = random.Random(seed), []
    edges = [start + timedelta(days=d, hours=h) for d in range(days) for h in (0, 22, 23)]
    for index in range(payments):
        currency = rng.choice(list(CURRENCIES))
        decimals = CURRENCIES[currency]
        amount = (Decimal(rng.randint(1, 10**6)) / Decimal(10) ** decimals).quantize(Decimal(1).scaleb(-decimals))
        at = rng.choice(edges) if rng.random() < 0.3 else start + timedelta(seconds=rng.randint(0, days * 86400 - 1))
        organization, payment_id = rng.choice(ORGANIZATIONS), f"payment-an-{seed}-{index}"
        metadata = {"organization_id": organization, "user_id": f"user-{rng.randint(1, 7)}",
                    "correlation_id": f"order-{index // 2}"}
        events.append(SyntheticEvent(payment_id, "PaymentProcessed", {"amount": str(amount), "currency": currency,
                                                                      "payment_id": payment_id}, at, metadata))
        if rng.random() < 0.4:
            refund = (amount / 2).quantize(amount)
            later = at + timedelta(hours=rng.randint(1, 72))
            events.append(SyntheticEvent(payment_id, "PaymentRefunded", {"amount": str(refund), "currency": currency,
                                                                         "payment_id": payment_id}, later, metadata))
    load_history(sorted(events, key=lambda event: (event.stream_id, event.recorded_at)))
    return events


UTC = timezone.utc
