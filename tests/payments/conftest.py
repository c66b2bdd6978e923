"""Fixtures of the payments tests: commands run side by side through Temporal, and the API clients of
two organizations."""

import asyncio
from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

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


@dataclass
class Tenants:
    acme: APIClient
    globex: APIClient
    operator: APIClient
    anonymous: APIClient


@pytest.fixture
def tenants(api_client_for) -> Tenants:
    """Two organizations' API clients (alice of org-acme, bob of org-globex), an operator who sees
    every organization (olga) and a client without credentials."""
    return Tenants(api_client_for("alice", "org-acme"), api_client_for("bob", "org-globex"),
                   api_client_for("olga", operator=True), APIClient())
