"""Demo data through the real pipeline: every payment is a command run by PaymentEventSourcingWorkflow.

`python -m config.devstack demo [--payments 300] [--concurrency 20] [--if-empty]` loads it (make run
does this once, with --if-empty). It is development tooling: no operator command ships it.

A year of business up to today (UTC midnight): payments on weekdays more than at weekends, more in
the autumn and before Christmas than in August, growing over the year; refunds days after their
payment, cancellations within hours; a few refused commands; and, recorded after everything else,
a few backdated corrections: refunds dated on the last day of a closed month. Orders (correlation
ids) group up to three payments of one organization. Everything follows from the payment's index and
the day it is loaded, so a rerun the same day sends the same commands under the same keys. Then a
settlement file of one organization's last month, with planted discrepancies, is written under
.data/demo/ (config/devstack/demo_settlement.py).
"""

import argparse
import asyncio
import calendar
import random
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.core.management.color import color_style
from django.utils import timezone
from temporalio.client import Client
from tqdm import tqdm

from config.devstack.demo_settlement import write_demo_settlement
from config.devstack.embedded import DATA_DIR
from eventstore import actors
from eventstore.models import Stream
from eventstore.temporal.connection import TemporalUnavailable, shared_client, shared_loop
from payments import approval_policies
from payments.client import submit_command
from payments.messages import PaymentCommandRequest, PaymentCommandResult
from payments.models import ApprovalPolicy, Organization

ORGANIZATIONS = {"org-acme": "Acme Corporation", "org-globex": "Globex", "org-initech": "Initech",
                 "org-umbrella": "Umbrella Finance", "org-stark": "Stark Industries"}
USERS = ["alice", "bob", "carol", "dave", "erin", "frank"]
CURRENCIES = {"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "JPY": 0, "KWD": 3}
DESCRIPTIONS = ["Invoice", "Subscription", "Consulting", "Hardware", "Travel", "Licence renewal"]
DEMO_PREFIX = "payment-demo-"
DAYS = 365
WEEKDAY_WEIGHTS = (1.0, 1.1, 1.1, 1.0, 0.9, 0.3, 0.15)  # Monday .. Sunday
MONTH_WEIGHTS = (0.8, 0.85, 1.0, 0.95, 1.0, 1.05, 0.8, 0.65, 1.0, 1.1, 1.3, 1.45)  # January .. December
ORDER_SIZE = 3  # payments per correlation id, at most
CORRECTION_EVERY = 40  # one payment in this many gets a backdated correction after its month's close
LOADER = actors.system("demo_data", channel="command_line")  # the actor of every demo event
SETTLEMENT_DIR = DATA_DIR / "demo"


@dataclass(frozen=True)
class DemoPlan:
    payments: list[list[PaymentCommandRequest]]  # each payment's commands, in order
    corrections: list[PaymentCommandRequest]  # sent after every payment's commands


def demo_payment_id(index: int) -> str:
    return f"{DEMO_PREFIX}{index:05d}"


def _amount(rng: random.Random, decimals: int) -> Decimal:
    major = rng.choice([rng.randint(5, 200), rng.randint(200, 5000), rng.randint(5000, 90000)])
    if decimals == 0:
        return Decimal(major * 10)
    return Decimal(major) + Decimal(rng.randint(0, 10**decimals - 1)).scaleb(-decimals)


def business_days(today: date) -> tuple[list[date], list[float]]:
    """The last DAYS days before `today` and how busy each is: weekday, season, a year of growth."""
    days = [today - timedelta(days=offset) for offset in range(DAYS, 0, -1)]
    weights = [WEEKDAY_WEIGHTS[day.weekday()] * MONTH_WEIGHTS[day.month - 1] * (0.8 + 0.4 * number / DAYS)
               for number, day in enumerate(days)]
    return days, weights


def _order_start(order: int, today: date) -> tuple[str, datetime]:
    """An order's organization and when its first payment happened (business hours, UTC)."""
    rng = random.Random(f"order-{order}")
    days, weights = business_days(today)
    day = rng.choices(days, weights)[0]
    moment = datetime.combine(day, time(rng.randint(7, 18), rng.randint(0, 59), rng.randint(0, 59)), UTC)
    return rng.choice(sorted(ORGANIZATIONS)), moment


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def demo_commands(index: int, today: date) -> tuple[list[PaymentCommandRequest], PaymentCommandRequest | None]:
    """One payment's life: created, then perhaps refunded days later, cancelled, or refused something;
    and perhaps a backdated correction to send after everything else."""
    rng = random.Random(index)
    order = (index - 1) // ORDER_SIZE
    organization, order_start = _order_start(order, today)
    end_of_business = datetime.combine(today, time(), UTC)  # nothing happens after the day before today
    occurred = min(order_start + timedelta(minutes=rng.randint(0, 90)), end_of_business - timedelta(seconds=1))
    currency = rng.choice(list(CURRENCIES))
    decimals = CURRENCIES[currency]
    amount = _amount(rng, decimals)
    payment_id, correlation = demo_payment_id(index), f"order-{organization.removeprefix('org-')}-{order:05d}"
    commands: list[PaymentCommandRequest] = []

    def command(kind: str, value: Decimal | None = None, note: str = "", when: datetime = occurred,
                step: int | None = None) -> PaymentCommandRequest:
        return PaymentCommandRequest(
            type=kind, payment_id=payment_id, organization_id=organization, user_id=rng.choice(USERS),
            amount=None if value is None else str(value), currency=currency,
            description=note or f"{rng.choice(DESCRIPTIONS)} {index}", correlation_id=correlation,
            idempotency_key=f"demo-{today:%Y%m%d}-{index}-{len(commands) if step is None else step}",
            occurred_at=_iso(min(when, end_of_business - timedelta(seconds=1))),
        )

    def later(low_hours: int, high_hours: int) -> datetime:
        return occurred + timedelta(hours=rng.randint(low_hours, high_hours), minutes=rng.randint(0, 59))

    commands.append(command("CREATE", amount))
    corrected = index % CORRECTION_EVERY == 0
    roll = 1.0 if corrected else rng.random()  # a payment to correct has nothing else done to it
    if roll < 0.12:
        commands.append(command("CANCEL", note="Cancelled at the customer's request", when=later(1, 36)))
    elif roll < 0.40:
        partial = (amount * Decimal(rng.choice(["0.1", "0.25", "0.5"]))).quantize(Decimal(1).scaleb(-decimals))
        refunded_at = later(24, 24 * 20)
        commands.append(command("REFUND", partial or amount, "Partial refund", when=refunded_at))
        if rng.random() < 0.3:
            commands.append(command("REFUND", amount, "Refund beyond the balance (refused)", when=refunded_at))
        if rng.random() < 0.2:
            commands.append(command("CANCEL", note="Cancel after refund (refused)", when=refunded_at))
    elif roll < 0.50:
        commands.append(command("REFUND", amount, "Full refund", when=later(24, 24 * 30)))
    correction = None
    month_end = _month_end(occurred)
    if corrected and month_end < end_of_business:
        fix = max(Decimal(1).scaleb(-decimals), (amount * Decimal("0.05")).quantize(Decimal(1).scaleb(-decimals)))
        correction = command("REFUND", fix, f"Correction after the close of {occurred:%B %Y}",
                             when=max(month_end, occurred), step=9)
    return commands, correction


def _month_end(moment: datetime) -> datetime:
    last_day = calendar.monthrange(moment.year, moment.month)[1]
    return datetime(moment.year, moment.month, last_day, 17, 0, tzinfo=UTC)


def demo_plan(payments: int, today: date) -> DemoPlan:
    lives = [demo_commands(index, today) for index in range(1, payments + 1)]
    return DemoPlan([commands for commands, _ in lives], [fix for _, fix in lives if fix is not None])


async def load(client: Client, plan: DemoPlan, *, concurrency: int, task_queue: str | None = None,
               on_done=None) -> list[PaymentCommandResult]:
    """Run every demo payment's commands, payments in parallel and each payment's commands in order;
    then the corrections, so they are recorded after everything they correct."""
    slots = asyncio.Semaphore(concurrency)
    results: list[PaymentCommandResult] = []

    async def in_order(commands: list[PaymentCommandRequest]) -> None:
        async with slots:
            for each in commands:
                results.append(await submit_command(client, each, actor=LOADER, task_queue=task_queue, timeout=120))
        if on_done is not None:
            on_done()

    await asyncio.gather(*(in_order(commands) for commands in plan.payments))
    await asyncio.gather(*(in_order([fix]) for fix in plan.corrections))
    return results


DEMO_TIME_ZONE = "Europe/Paris"  # the finance team of the demo closes its months in Paris time


def load_demo_data(*, payments: int = 300, concurrency: int = 20, if_empty: bool = False) -> None:
    """Create the demo organizations and load `payments` demo payments through Temporal, with a
    progress bar on stderr and a summary on stdout; with `if_empty`, nothing when some are loaded.
    TemporalUnavailable when nobody answers."""
    if if_empty and Stream.objects.filter(stream_id__startswith=DEMO_PREFIX).exists():
        print("Demo payments are already loaded.", flush=True)
        _settlement_file()
        return
    for organization_id, name in ORGANIZATIONS.items():
        Organization.objects.get_or_create(id=organization_id, defaults={
            "name": name, "time_zone": DEMO_TIME_ZONE, "reporting_currency": "EUR"})
    plan = demo_plan(payments, timezone.now().date())
    client = shared_client()
    with tqdm(total=len(plan.payments) + len(plan.corrections), unit="payment", desc="demo payments",
              file=sys.stderr) as bar:
        results = shared_loop().run(load(client, plan, concurrency=concurrency, on_done=bar.update))
    accepted = sum(result.success for result in results)
    print(color_style().SUCCESS(
        f"Loaded {payments} demo payments over the last twelve months: {len(results)} commands, {accepted} "
        f"accepted, {len(results) - accepted} refused by the business rules, {len(plan.corrections)} of them "
        "backdated corrections recorded last."
    ), flush=True)
    _approval_policy()
    _settlement_file()


DEMO_POLICY = ("org-acme", "REFUND", "EUR", Decimal("1000.00"))  # after the load: the demo's refunds run at once


def _approval_policy() -> None:
    """Four-eyes control of Acme's refunds from 1,000.00 EUR, recorded like any policy change."""
    organization_id, command_type, currency, threshold = DEMO_POLICY
    if ApprovalPolicy.objects.filter(organization_id=organization_id, command_type=command_type).exists():
        return
    approval_policies.save_rule(rule=ApprovalPolicy(organization_id=organization_id, command_type=command_type,
                                                    currency=currency, threshold=threshold), actor=LOADER)
    print(f"Refunds of {organization_id} from {threshold} {currency} need a second person's approval "
          "(Payments › Approval policy).", flush=True)


def _settlement_file() -> None:
    """The demo settlement file (config/devstack/demo_settlement.py), written once."""
    path = write_demo_settlement(SETTLEMENT_DIR, timezone.now().date(), sorted(ORGANIZATIONS))
    if path is not None:
        print(f"A settlement file with planted discrepancies: {path}; import it at "
              "/admin/payments/reconciliation/add/", flush=True)


def main(argv: list[str]) -> int:
    """`python -m config.devstack demo [options]`, once Django is set up: the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m config.devstack demo",
        description="Load demo payments over the last twelve months of business time (several organizations "
                    "and currencies, refunds days later, cancellations, refused commands and a few backdated "
                    "corrections) by running real commands through Temporal. Safe to rerun the same day: "
                    "commands carry idempotency keys.",
    )
    parser.add_argument("--payments", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--if-empty", action="store_true", help="Do nothing when demo payments exist.")
    options = parser.parse_args(argv)
    try:
        load_demo_data(payments=options.payments, concurrency=options.concurrency, if_empty=options.if_empty)
    except TemporalUnavailable as error:
        print(color_style().ERROR(str(error)), file=sys.stderr)
        return 1
    return 0
