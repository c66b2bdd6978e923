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
