"""What an operator watches on `manage.py temporal_worker`: its metrics (the project's and the
Temporal SDK's), its heartbeat file for a supervisor, the search attributes of the workflows it
runs, and its refusal to start beyond the connection budget."""

import os
import time
import urllib.request
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from config.devstack.embedded import free_port
from payments.client import submit_command
from tests.processes import command_env, manage
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


def scrape(address: str) -> str:
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as answer:
        return answer.read().decode()


def sample(text: str, name: str, **labels: str) -> float | None:
    """The sum of the samples named `name` (or `name_total`) carrying `labels`; None when there is none."""
    values = [each.value for family in text_string_to_metric_families(text) for each in family.samples
              if each.name in (name, f"{name}_total") and labels.items() <= each.labels.items()]
    return sum(values) if values else None


def test_worker_metrics_heartbeat_and_search_attributes(temporal_server, command_request, tmp_path):
    task_queue, heartbeat = f"observed-{uuid.uuid4()}", tmp_path / "worker.alive"
    project, sdk = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    env = command_env(TEMPORAL_ADDRESS=temporal_server.address, WORKER_METRICS_ADDRESS=project,
                      TEMPORAL_METRICS_ADDRESS=sdk, WORKER_HEARTBEAT_FILE=str(heartbeat))
    worker = manage("temporal_worker", "--task-queue", task_queue, "--no-catch-up", env=env, output=open(tmp_path / "log", "w"))
    try:
        request = command_request()
        result = temporal_server.run(submit_command(temporal_server.client, request, task_queue=task_queue, timeout=90))
        assert result.success, result.message

        sdk_text = wait_for(lambda: (text := scrape(sdk)) and sample(text, "payments_commands") and text)
        project_text = scrape(project)
        found = wait_for(lambda: temporal_server.run(_workflow_ids(temporal_server.client, f'PaymentId="{request.payment_id}"')))
        beat_age = time.time() - os.path.getmtime(heartbeat)
    finally:
        worker.terminate()
        worker.wait(60)

    assert sample(sdk_text, "payments_commands", command_type="CREATE", outcome="accepted") == 1
    assert sample(sdk_text, "temporal_workflow_completed") >= 1  # the SDK's own
    assert sample(project_text, "eventstore_append_duration_seconds_count") == 1
    assert sample(project_text, "eventstore_version_conflicts_total") == 0
    assert sample(project_text, "eventstore_projection_lag_events", projection="payment_summary") is not None
    assert found == [result.workflow_id]
    assert beat_age < 30


async def _workflow_ids(client, query: str) -> list[str]:
    return [execution.id async for execution in client.list_workflows(query)]


def test_worker_refuses_to_start_beyond_the_connection_budget():
    process = manage("temporal_worker", env=command_env(WORKER_PROCESSES="1000"))
    output, _ = process.communicate(timeout=60)

    assert process.returncode == 1
    assert "The database connection budget is" in output and "max_connections" in output
    assert "Traceback" not in output
