"""Random but valid payment histories, decided by the real domain and appended to the real store.

Tests receive them through the `random_commands` and `random_lives` fixtures."""

import random
from decimal import Decimal

from eventstore.events import NewEvent
from eventstore.store import append_events
from payments.domain import AGGREGATE_TYPE, CommandRejected, CommandType, PaymentCommand
from payments.selectors import load_payment

CURRENCIES = ["EUR", "USD", "JPY", "KWD"]


def random_commands(count: int, *, payments: int, seed: int = 7, prefix: str = "payment-mix") -> int:
    """Decide and append `count` random commands over `payments` payments; returns events written."""
    rng = random.Random(seed)
    written = 0
    for _ in range(count):
        payment_id = f"{prefix}-{rng.randrange(payments)}"
        payment = load_payment(payment_id)
        command = _random_command(rng, payment_id, payment)
        try:
            events = payment.decide(command)
        except CommandRejected:
            continue
        append_events(stream_id=payment_id, aggregate_type=AGGREGATE_TYPE, expected_version=payment.version, events=[
            NewEvent(event.event_type, event.data, {"correlation_id": f"c-{payment_id}",
                                                     "organization_id": command.organization_id})
            for event in events
        ])
        written += len(events)
    return written


def random_lives(payments: int, *, seed: int = 5, prefix: str = "payment-life") -> int:
    """Each payment's whole life decided in memory and appended as one batch; returns events written."""
    rng, written = random.Random(seed), 0
    for index in range(payments):
        payment_id = f"{prefix}-{index}"
        payment = load_payment(payment_id)
        for _ in range(rng.randint(1, 9)):
            try:
                payment.execute(_random_command(rng, payment_id, payment))
            except CommandRejected:
                pass
        append_events(stream_id=payment_id, aggregate_type=AGGREGATE_TYPE, expected_version=0, events=[
            NewEvent(event.event_type, event.data, {"correlation_id": f"c-{payment_id}"})
            for event in payment.uncommitted_events
        ])
        written += len(payment.uncommitted_events)
    return written


def _random_command(rng: random.Random, payment_id: str, payment) -> PaymentCommand:
    organization = f"org-{hash(payment_id) % 3}"
    if not payment.exists:
        currency = rng.choice(CURRENCIES)
        amount = {"JPY": "1500", "KWD": "12.345"}.get(currency, f"{rng.randint(1, 900)}.{rng.randint(0, 99):02d}")
        return PaymentCommand(CommandType.CREATE, payment_id, organization, "user-1", amount, currency, "mix")
    if rng.random() < 0.15:
        return PaymentCommand(CommandType.CANCEL, payment_id, organization, "user-2")
    share = payment.amount * Decimal(rng.choice(["0.1", "0.3", "0.5", "1.2"]))
    decimals = {"JPY": 0, "KWD": 3}.get(payment.currency, 2)
    return PaymentCommand(CommandType.REFUND, payment_id, organization, "user-3",
                          str(share.quantize(Decimal(1).scaleb(-decimals))), payment.currency)
