"""Prometheus instruments of the append path: its duration, and the appends refused by a version
conflict. Served with the rest by `eventstore.web.metrics`."""

import time
from contextlib import contextmanager

from prometheus_client import Counter, Histogram

from eventstore.errors import WrongExpectedVersion

APPEND_SECONDS = Histogram("eventstore_append_duration_seconds", "Time of one append to the store (written or conflicting).")
VERSION_CONFLICTS = Counter("eventstore_version_conflicts", "Appends refused because the stream had moved on.")


@contextmanager
def timed_append():
    """Times an append, and counts it as a version conflict when it raises WrongExpectedVersion."""
    began = time.perf_counter()
    try:
        yield
    except WrongExpectedVersion:
        VERSION_CONFLICTS.inc()
        raise
    finally:
        APPEND_SECONDS.observe(time.perf_counter() - began)
