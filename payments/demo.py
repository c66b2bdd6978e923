"""Demo data through the real pipeline: every payment is a command run by PaymentEventSourcingWorkflow."""

import asyncio
import random
from decimal import Decimal

from temporalio.client import Client

from payments.client import submit_command
from payments.messages import PaymentCommandRequest, PaymentCommandResult

ORGANIZATIONS = ["org-acme", "org-globex", "org-initech", "org-umbrella", "org-stark"]
USERS = ["alice", "bob", "carol", "dave", "erin", "frank"]
CURRENCIES = {"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "JPY": 0, "KWD": 3}
DESCRIPTIONS = ["Invoice", "Subscription", "Consulting", "Hardware", "Travel", "Licence renewal"]
DEMO_PREFIX = "payment-demo-"


def demo_payment_id(index: int) -> str:
    return f"{DEMO_PREFIX}{index:05d}"


def _amount(rng: random.Random, decimals: int) -> Decimal:
    major = rng.choice([rng.randint(5, 200), rng.randint(200, 5000), rng.randint(5000, 90000)])
    if decimals == 0:
        return Decimal(major * 10)
    return Decimal(major) + Decimal(rng.randint(0, 10**decimals - 1)).scaleb(-decimals)


def demo_commands(index: int) -> list[PaymentCommandRequest]:
    """One payment's life: created, then perhaps refunded, cancelled, or refused something."""
    rng = random.Random(index)
    currency = rng.choice(list(CURRENCIES))
    decimals = CURRENCIES[currency]
    amount = _amount(rng, decimals)
    payment_id, organization = demo_payment_id(index), rng.choice(ORGANIZATIONS)
    correlation = f"order-{index // 3:05d}"

    def command(kind: str, value: Decimal | None = None, note: str = "") -> PaymentCommandRequest:
        step = len(commands)
        return PaymentCommandRequest(
            type=kind, payment_id=payment_id, organization_id=organization, user_id=rng.choice(USERS),
            amount=None if value is None else str(value), currency=currency,
            description=note or f"{rng.choice(DESCRIPTIONS)} {index}", correlation_id=correlation,
            idempotency_key=f"demo-{index}-{step}",
        )

    commands: list[PaymentCommandRequest] = []
    commands.append(command("CREATE", amount))
    roll = rng.random()
    if roll < 0.15:
        commands.append(command("CANCEL", note="Cancelled at the customer's request"))
    elif roll < 0.45:
        partial = (amount * Decimal(rng.choice(["0.1", "0.25", "0.5"]))).quantize(Decimal(1).scaleb(-decimals))
        commands.append(command("REFUND", partial or amount, "Partial refund"))
        if rng.random() < 0.4:
            commands.append(command("REFUND", amount, "Refund beyond the balance (refused)"))
        if rng.random() < 0.3:
            commands.append(command("CANCEL", note="Cancel after refund (refused)"))
    elif roll < 0.55:
        commands.append(command("REFUND", amount, "Full refund"))
    return commands


async def load(client: Client, *, payments: int, concurrency: int, task_queue: str | None = None,
               on_payment_done=None) -> list[PaymentCommandResult]:
    """Run every demo payment's commands, payments in parallel and each payment's commands in order."""
    slots = asyncio.Semaphore(concurrency)
    results: list[PaymentCommandResult] = []

    async def one_payment(index: int) -> None:
        async with slots:
            for each in demo_commands(index):
                results.append(await submit_command(client, each, task_queue=task_queue, timeout=120))
        if on_payment_done is not None:
            on_payment_done()

    await asyncio.gather(*(one_payment(index) for index in range(1, payments + 1)))
    return results
