"""`manage.py temporal_worker` as an operator runs it: a real process, real Temporal, real PostgreSQL."""

import signal
import time
import uuid

import pytest

from eventstore.models import Event
from eventstore.temporal.messages import AppendRequest, EventInput, EventStoreRequest
from eventstore.temporal.workflows import EventStoreWorkflow
from tests.processes import command_env, manage

pytestmark = pytest.mark.django_db(transaction=True)


def test_unreachable_temporal_is_a_clear_message_not_a_traceback():
    process = manage("temporal_worker", env=command_env(TEMPORAL_ADDRESS="127.0.0.1:1"))
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "Temporal is unreachable at 127.0.0.1:1" in output
    assert "Traceback" not in output


def test_unreachable_postgres_is_a_clear_message_not_a_traceback():
    env = command_env(DATABASE_URL="postgres://nobody@127.0.0.1:1/nothing")
    process = manage("temporal_worker", env=env)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "PostgreSQL is unreachable" in output
    assert "Traceback" not in output


def test_worker_serves_workflows_and_stops_gracefully_on_sigterm(temporal_server):
    task_queue = f"worker-{uuid.uuid4()}"
    address = temporal_server.client.service_client.config.target_host
    process = manage("temporal_worker", "--task-queue", task_queue, "--no-catch-up",
                     env=command_env(TEMPORAL_ADDRESS=address))
    try:
        request = EventStoreRequest("append", append=AppendRequest(
            "ledger-worker", "Ledger", [EventInput("Noted", {"amount": "1.00"})], "no_stream"
        ))
        result = temporal_server.run(temporal_server.client.execute_workflow(
            EventStoreWorkflow.run, request, id=f"store-{uuid.uuid4()}", task_queue=task_queue
        ))
        assert result.appended.version == 1
        [event] = Event.objects.filter(stream_id="ledger-worker")
        assert event.metadata["actor"] == {"kind": "temporal_client", "id": temporal_server.client.identity,
                                           "channel": "temporal"}

        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "Worker stopped" in output
    assert time.monotonic() - started < 30
