import uuid
from datetime import timedelta

from django.utils import timezone

from payments.client import submit_command
from payments.messages import PaymentCommandRequest, PaymentCommandResult


def request(kind="CREATE", payment_id=None, amount="100.00", currency="EUR", **overrides) -> PaymentCommandRequest:
    fields = dict(type=kind, payment_id=payment_id or f"payment-{uuid.uuid4().hex[:12]}",
                  organization_id="org-456", user_id="user-789", amount=amount, currency=currency,
                  description="Test payment")
    fields.update(overrides)
    return PaymentCommandRequest(**fields)


def run(temporal, command: PaymentCommandRequest, timeout: float = 60) -> PaymentCommandResult:
    return temporal.run(submit_command(temporal.client, command, task_queue=temporal.task_queue, timeout=timeout))


def run_many(temporal, commands, timeout: float = 120) -> list[PaymentCommandResult]:
    async def all_of_them():
        import asyncio

        return await asyncio.gather(*(
            submit_command(temporal.client, command, task_queue=temporal.task_queue, timeout=timeout)
            for command in commands
        ))

    return temporal.run(all_of_them(), timeout=timeout + 30)


def around_now():
    now = timezone.now()
    return now - timedelta(minutes=5), now + timedelta(minutes=5)
