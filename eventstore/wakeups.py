"""Wake-ups: readers of the store learn of new events within milliseconds instead of at their next poll.

A notification on the channel `CHANNEL` follows every commit that inserted events: `store.append_events`
sends it once its transaction has committed, and a trigger on the events table (migrations 0014 and
0016) sends it for any other insert. One listener thread per process LISTENs on its own
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


class _Listener:
    def __init__(self):
        self.count = 0
        self.changed = threading.Condition()
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="eventstore-listener", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self._listen()
            except Exception as error:  # the database went away: fall back to polling, then reconnect
                logger.warning("Listening for new events failed (%s); retrying", error)
                self._notify()
                time.sleep(RECONNECT_PAUSE)

    def _listen(self) -> None:
        params = connections["default"].get_connection_params()
        with psycopg.connect(**_plain(params), autocommit=True) as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            while not self.stopping.is_set():
                for _ in connection.notifies(timeout=STOP_CHECK_SECONDS):
                    self._notify()

    def _notify(self) -> None:
        with self.changed:
            self.count += 1
            self.changed.notify_all()


def _plain(params: dict) -> dict:
    """Django's connection parameters without what only Django's own connections understand."""
    return {key: value for key, value in params.items() if key not in {"cursor_factory", "context", "server_side_binding"}}


_listener: _Listener | None = None
_stopped = False
_lock = threading.Lock()


def _started() -> _Listener | None:
    global _listener
    with _lock:
        if _listener is None and not _stopped:
            _listener = _Listener()
        return _listener


def notifications_seen() -> int:
    """A count that moves whenever events commit; note it before reading, wait on it after."""
    listener = _started()
    return 0 if listener is None else listener.count


def wait_for_events(seen: int, timeout: float) -> bool:
    """Wait up to `timeout` seconds for events committed after the count was `seen`; True if woken."""
    listener = _started()
    if listener is None:  # stopped for good: polling only
        time.sleep(max(timeout, 0))
        return False
    with listener.changed:
        return listener.changed.wait_for(lambda: listener.count != seen, timeout=max(timeout, 0))


def stop_listening() -> None:
    """Close the listener's connection for good: readers poll from then on (a test run drops its
    database afterwards)."""
    global _listener, _stopped
    with _lock:
        listener, _listener, _stopped = _listener, None, True
    if listener is not None:
        listener.stopping.set()
        listener._thread.join(timeout=5)
