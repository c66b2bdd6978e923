"""Waiting, in tests, for something another process or workflow does in its own time."""

import time


def wait_for(condition, timeout: float = 60):
    """The first truthy value of `condition()` within `timeout` seconds, else its last value; an OSError
    (a server not listening yet) counts as not yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except OSError:
            value = None
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def sessions_waiting_behind(session) -> list[int]:
    """The backend pids of the database sessions waiting for a lock that `session` (a psycopg
    connection) holds: how a test knows that another thread or process reached the point it holds."""
    # pg_locks rather than pg_stat_activity, which a session reads once per transaction
    rows = session.execute("SELECT DISTINCT pid FROM pg_locks"
                           " WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid))")
    return [pid for (pid,) in rows.fetchall()]
