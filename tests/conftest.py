import contextlib

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections

from tests.temporal_harness import TemporalHarness

FLUSHING_BACKEND = "tests.postgres_backend"


def pytest_configure(config):
    """Django's test teardown truncates every table; the event store's triggers refuse that, so the
    suite's own connections use a backend that flushes with triggers off (session_replication_role,
    superuser only). Processes started by tests keep the plain backend."""
    settings.DATABASES["default"]["ENGINE"] = FLUSHING_BACKEND
    # django.setup() already built the default connection's wrapper (model classes ask it for the
    # longest name), without connecting: drop it, so that the first use builds the flushing one.
    with contextlib.suppress(AttributeError):  # none built yet
        del connections[DEFAULT_DB_ALIAS]


@pytest.fixture(scope="session")
def temporal_server():
    """A real Temporal dev server, started once for the whole test session."""
    harness = TemporalHarness()
    harness.start()
    yield harness
    harness.stop()


@pytest.fixture(scope="session")
def temporal(temporal_server, django_db_setup, django_db_blocker):
    """The dev server plus a worker running every workflow and activity of the project.

    Django code that talks to Temporal (payments.client) is pointed at them for the session.
    """
    settings.TEMPORAL_ADDRESS = temporal_server.address
    settings.TEMPORAL_TASK_QUEUE = temporal_server.task_queue
    temporal_server.start_worker()
    return temporal_server


@pytest.fixture(autouse=True)
def _empty_cache():
    """Test databases are emptied between tests, which never happens to a real store: forget it."""
    cache.clear()
