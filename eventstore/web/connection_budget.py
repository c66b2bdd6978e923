"""The database connections the configured processes may hold, checked against PostgreSQL's limit.

Each web process holds at most DATABASE_POOL_SIZE connections (psycopg's pool, see settings), each
worker WORKER_DATABASE_POOL_SIZE, and each two more, the wake-ups listener's and notifier's (eventstore/wakeups.py);
the budget adds them up over WEB_PROCESSES and WORKER_PROCESSES, plus DATABASE_SPARE_CONNECTIONS for
commands. A web server or worker refuses to start when the budget exceeds what the server accepts.
A read replica (DATABASE_REPLICA_URL) is a server of its own: each web process holds at most as many
connections to it as to the primary, workers none (they read the primary); it is checked the same way.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections

from eventstore.replica import REPLICA, replica_configured

WAKE_UP_CONNECTIONS = 2  # a process's wake-ups listener and notifier (eventstore/wakeups.py)


def available_connections(server=connection) -> int:
    """Connections PostgreSQL accepts from roles without reserved slots."""
    with server.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int"
            " - coalesce(current_setting('reserved_connections', true)::int, 0)"
        )
        return cursor.fetchone()[0]


def check_connection_budget() -> int:
    """The budget; ImproperlyConfigured, naming every term, when PostgreSQL cannot grant it."""
    try:
        available = available_connections()
    finally:
        connection.close()
        connection.close_pool()  # a process that forks afterwards must not inherit the pool's threads
    budget = connection_budget()
    if budget > available:
        raise ImproperlyConfigured(
            f"The database connection budget is {budget}: WEB_PROCESSES {settings.WEB_PROCESSES} x "
            f"{per_web_process()} + WORKER_PROCESSES {settings.WORKER_PROCESSES} x {per_worker()} + "
            f"DATABASE_SPARE_CONNECTIONS {settings.DATABASE_SPARE_CONNECTIONS}, but PostgreSQL accepts only "
            f"{available} (max_connections less its reserved slots). Lower DATABASE_POOL_SIZE, WEB_THREADS, "
            f"WORKER_DATABASE_POOL_SIZE or the process counts, or raise max_connections."
        )
    if replica_configured():
        check_replica_budget()
    return budget


def check_replica_budget() -> int:
    replica = connections[REPLICA]
    try:
        available = available_connections(replica)
    finally:
        replica.close()
        replica.close_pool()
    budget = replica_budget()
    if budget > available:
        raise ImproperlyConfigured(
            f"The read replica's connection budget is {budget}: WEB_PROCESSES {settings.WEB_PROCESSES} x "
            f"{max(settings.DATABASE_POOL_SIZE, settings.WEB_THREADS)} + DATABASE_SPARE_CONNECTIONS "
            f"{settings.DATABASE_SPARE_CONNECTIONS}, but the replica accepts only {available} (its max_connections, "
            f"which must be at least the primary's, less its reserved slots)."
        )
    return budget


def replica_budget() -> int:
    return settings.WEB_PROCESSES * max(settings.DATABASE_POOL_SIZE, settings.WEB_THREADS) + settings.DATABASE_SPARE_CONNECTIONS


def connection_budget() -> int:
    return (settings.WEB_PROCESSES * per_web_process() + settings.WORKER_PROCESSES * per_worker()
            + settings.DATABASE_SPARE_CONNECTIONS)


def per_web_process() -> int:
    return max(settings.DATABASE_POOL_SIZE, settings.WEB_THREADS) + WAKE_UP_CONNECTIONS


def per_worker() -> int:
    return settings.WORKER_DATABASE_POOL_SIZE + WAKE_UP_CONNECTIONS


def use_worker_pool() -> None:
    """Size this process's pool for a worker, before its first connection: its activity threads share
    it, and the catch-up loop and webhook deliveries each hold a connection while they run."""
    pool = connection.settings_dict.get("OPTIONS", {}).get("pool")
    if not pool:
        return
    connection.close_pool()
    pool["max_size"] = settings.WORKER_DATABASE_POOL_SIZE
