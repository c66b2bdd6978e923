import pytest
from django.conf import settings
from django.core.cache import cache

from tests.temporal_harness import TemporalHarness


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
