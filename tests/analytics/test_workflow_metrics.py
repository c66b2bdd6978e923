"""Workflow metrics read from Temporal's visibility store."""

import time
from datetime import timedelta

import pytest

from analytics.workflow_metrics import collect

pytestmark = pytest.mark.django_db(transaction=True)


def test_workflow_metrics_from_visibility(temporal, run_command, command_request):
    for _ in range(3):
        run_command(command_request())
    deadline = time.monotonic() + 15
    while True:  # visibility is eventually consistent: a command finished a moment ago may still show running
        metrics = {m.workflow_type: m for m in temporal.run(collect(temporal.client, window=timedelta(hours=1), sample=100))}
        commands = metrics["PaymentEventSourcingWorkflow"]
        if commands.running == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert commands.started >= 3 and commands.completed >= 3 and commands.running == 0
    assert commands.average_seconds > 0 and commands.p95_seconds >= commands.average_seconds * 0.5
    assert set(metrics) >= {"EventAnalyticsWorkflow", "PaymentHistoryQueryWorkflow", "EventStoreWorkflow"}
