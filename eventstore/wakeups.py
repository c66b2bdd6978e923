"""Wake-ups: readers of the store learn of new events within milliseconds instead of at their next poll.

A notification on the channel `CHANNEL` follows every commit that inserted events: `store.append_events`
asks for one once its transaction has committed (`wake_readers`), and a trigger on the events table
(`eventstore/sql/eventstore_notify_events.sql`) sends one for any other insert. One notifier thread per process sends the
appends' notifications on a connection of its own, so that no append waits for one: appends that
commit while it is sending share the next. One listener thread per process LISTENs on its own
connection and counts notifications; a reader notes the count, reads, and if it found nothing waits
for the count to move (`wait_for_events`). Polling stays the fallback: every wait is bounded, so a
lost connection or an event that becomes readable without a notification of its own (it waited
for an older transaction to end) is read at the next poll.
"""

import logging
import threading
import time

import psycopg
from django.db import connections

logger = logging.getLogger(__name__)

CHANNEL = "eventstore_events"
RECONNECT_PAUSE = 1.0
STOP_CHECK_SECONDS = 0.5
# The notifier gathers the requests of this long into one notification: under a stream of appends,
# one notification per append would cost the server and this process more than the appends' own work.
NOTIFY_GATHER_SECONDS = 0.005


class _OnItsOwnConnection:
    """A daemon thread that serves on a database connection of its own until stopped, and reconnects
    after RECONNECT_PAUSE when the database goes away."""

    thread_name = ""
    failure = ""

    def __init__(self):
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                params = connections["default"].get_connection_params()
                with psycopg.connect(**_plain(params), autocommit=True) as connection:
                    self._serve(connection)
            except Exception as error:  # the database went away: readers poll meanwhile; reconnect
                logger.warning("%s failed (%s); retrying", self.failure, error)
                self._after_failure()
                time.sleep(RECONNECT_PAUSE)

    def _serve(self, connection: psycopg.Connection) -> None:
        raise NotImplementedError

    def _after_failure(self) -> None:
        raise NotImplementedError


class _Listener(_OnItsOwnConnection):
    thread_name, failure = "eventstore-listener", "Listening for new events"

    def __init__(self):
        self.count = 0
        self.changed = threading.Condition()
        super().__init__()

    def _serve(self, connection: psycopg.Connection) -> None:
        connection.execute(f"LISTEN {CHANNEL}")
        while not self.stopping.is_set():
            for _ in connection.notifies(timeout=STOP_CHECK_SECONDS):
                self._notify()

    def _after_failure(self) -> None:
        self._notify()  # waiting readers look for themselves

    def _notify(self) -> None:
        with self.changed:
            self.count += 1
            self.changed.notify_all()


class _Notifier(_OnItsOwnConnection):
    """Sends a notification after every request. It gathers requests for NOTIFY_GATHER_SECONDS
    first, and requests that arrive while it is sending are answered by the next notification: one
    notification follows the commits of many appends."""

    thread_name, failure = "eventstore-notifier", "Notifying listeners of new events"

    def __init__(self):
        self.requested = threading.Event()
        super().__init__()

    def _serve(self, connection: psycopg.Connection) -> None:
        while not self.stopping.is_set():
            if self.requested.wait(STOP_CHECK_SECONDS):
                time.sleep(NOTIFY_GATHER_SECONDS)
                self.requested.clear()
                connection.execute(f"NOTIFY {CHANNEL}")

    def _after_failure(self) -> None:
        self.requested.set()  # the notification that may not have gone out, once reconnected


def _plain(params: dict) -> dict:
    """Django's connection parameters without what only Django's own connections understand."""
    return {key: value for key, value in params.items() if key not in {"cursor_factory", "context", "server_side_binding"}}


_running: dict[type, _OnItsOwnConnection] = {}  # the listener and the notifier, each started at first use
_stopped = False
_lock = threading.Lock()


def _started(kind: type[_OnItsOwnConnection]):
    """This process's thread of that kind, started if need be; None once stopped for good."""
    with _lock:
        if kind not in _running and not _stopped:
            _running[kind] = kind()
        return _running.get(kind)


def wake_readers() -> None:
    """Have every process's readers woken, without waiting: call it once events have committed.

    The notification goes out from the notifier's own transaction, never from the inserting one: a
    transaction that notifies holds PostgreSQL's notify queue lock until its commit is flushed to
    disk, so concurrent appends would flush one after another instead of together. A lost
    notification costs a reader its wait until the next poll, never an event."""
    notifier = _started(_Notifier)
    if notifier is not None:
        notifier.requested.set()


def notifications_seen() -> int:
    """A count that moves whenever events commit; note it before reading, wait on it after."""
    listener = _started(_Listener)
    return 0 if listener is None else listener.count


def wait_for_events(seen: int, timeout: float) -> bool:
    """Wait up to `timeout` seconds for events committed after the count was `seen`; True if woken."""
    listener = _started(_Listener)
    if listener is None:  # stopped for good: polling only
        time.sleep(max(timeout, 0))
        return False
    with listener.changed:
        return listener.changed.wait_for(lambda: listener.count != seen, timeout=max(timeout, 0))


def stop_listening() -> None:
    """Close the listener's and the notifier's connections for good: readers poll from then on (a
    test run drops its database afterwards)."""
    global _stopped
    with _lock:
        _stopped = True
        threads = list(_running.values())
        _running.clear()
    for each in threads:
        each.stopping.set()
        each._thread.join(timeout=5)
