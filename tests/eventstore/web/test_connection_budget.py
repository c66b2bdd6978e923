"""The connection budget a web server and a worker check when they start, against the live
PostgreSQL: the README's formula, every process's two wake-up connections included, and a budget
refused one connection past what the server accepts."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from eventstore.web.connection_budget import check_connection_budget

pytestmark = pytest.mark.django_db(transaction=True)  # the check closes the connection it asked on

WAKE_UPS_PER_PROCESS = 2  # README: each process's wake-ups listener and notifier


def accepted_by_postgresql() -> int:
    """max_connections less its reserved slots, what the README checks the budget against."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, setting::int FROM pg_settings"
                       " WHERE name IN ('max_connections', 'superuser_reserved_connections', 'reserved_connections')")
        slots = dict(cursor.fetchall())
    return slots["max_connections"] - slots["superuser_reserved_connections"] - slots.get("reserved_connections", 0)


def budget_without_spares(settings) -> int:
    """README: WEB_PROCESSES x (max(DATABASE_POOL_SIZE, WEB_THREADS) + 2)
    + WORKER_PROCESSES x (WORKER_DATABASE_POOL_SIZE + 2) + DATABASE_SPARE_CONNECTIONS, less the spares."""
    per_web_process = max(settings.DATABASE_POOL_SIZE, settings.WEB_THREADS) + WAKE_UPS_PER_PROCESS
    per_worker = settings.WORKER_DATABASE_POOL_SIZE + WAKE_UPS_PER_PROCESS
    return settings.WEB_PROCESSES * per_web_process + settings.WORKER_PROCESSES * per_worker


@pytest.fixture
def deployment(settings, request):
    """A deployment of (web processes, workers) whose spare connections make its budget exactly what
    PostgreSQL accepts; the test adds any excess."""
    settings.WEB_PROCESSES, settings.WORKER_PROCESSES = request.param
    settings.DATABASE_POOL_SIZE, settings.WEB_THREADS, settings.WORKER_DATABASE_POOL_SIZE = 3, 5, 4
    available = accepted_by_postgresql()
    settings.DATABASE_SPARE_CONNECTIONS = available - budget_without_spares(settings)
    assert settings.DATABASE_SPARE_CONNECTIONS >= 1, f"PostgreSQL accepts only {available} connections"
    return available


DEPLOYMENTS = pytest.mark.parametrize("deployment", [(3, 0), (0, 3), (2, 1)], indirect=True,
                                      ids=["web processes", "workers", "both"])


@DEPLOYMENTS
def test_a_budget_that_fits_exactly_is_accepted(deployment):
    assert check_connection_budget() == deployment


@DEPLOYMENTS
def test_a_budget_one_connection_past_what_postgresql_accepts_is_refused(deployment, settings):
    settings.DATABASE_SPARE_CONNECTIONS += 1

    with pytest.raises(ImproperlyConfigured) as refusal:
        check_connection_budget()

    message = str(refusal.value)
    assert f"The database connection budget is {deployment + 1}:" in message
    assert f"PostgreSQL accepts only {deployment}" in message
