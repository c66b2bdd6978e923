"""Fixtures of the payments tests: commands run side by side through Temporal."""

import asyncio

import pytest

from payments.client import submit_command
from payments.messages import PaymentCommandRequest, PaymentCommandResult


@pytest.fixture
def run_concurrently(temporal):
    """Runs payment commands all at once through the session's Temporal server and worker, and
    returns their results in the order given."""

    def run_concurrently(commands: list[PaymentCommandRequest], timeout: float = 120) -> list[PaymentCommandResult]:
        async def all_of_them():
            return await asyncio.gather(*(
                submit_command(temporal.client, command, task_queue=temporal.task_queue, timeout=timeout)
                for command in commands
            ))

        return temporal.run(all_of_them(), timeout=timeout + 30)

    return run_concurrently
