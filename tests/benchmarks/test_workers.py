"""Payment commands through `manage.py temporal_worker` processes, as an operator runs them: commands/s
and p50 latency with two worker processes beside the one-worker baseline, at concurrency 50.

The workers poll a task queue of this benchmark's own on the suite's Temporal dev server, so no other
worker takes its commands. Rounds alternate (one worker, two, one, two...) so that drifting machine load
hits both alike: the first worker runs throughout, the second is started for each two-worker round and
stopped after it. A round is measured only once every worker of it polls and nothing else runs on the
queue (a worker's start triggers the ledger's schedules once), after a warm-up.
"""

import contextlib
import signal
import socket
import statistics
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from analytics.percentiles import percentile
from payments.client import submit_command
from tests.benchmarks.measure import Comparison
from tests.benchmarks.test_payments import new_request, run
from tests.processes import command_env, manage

pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600), pytest.mark.django_db(transaction=True)]

FULL = dict(commands=400, rounds=2, warm_up=40)  # commands per round, rounds per worker count
QUICK = dict(commands=60, rounds=1, warm_up=20)
CONCURRENCY = 50
BASELINE = "one worker process"
SCHEDULE_INTERVAL = str(24 * 3600)  # seconds: no scheduled signing or verification falls into a round
SAMPLE = 40  # commands of a round whose histories show which workers served it
STARTUP_SECONDS = 180  # shared CPU: a worker's imports and Temporal's first polls can take a while


def test_commands_with_two_worker_processes_beside_one(bench, size, temporal_server, tmp_path):
    bench.describe_data(f"{size.commands} CREATE commands at concurrency {CONCURRENCY} per round, {size.rounds} "
                        f"round(s) with one and with two `manage.py temporal_worker` processes (default threads "
                        f"and pool, no catch-up loop, no webhooks) on the suite's Temporal dev server")
    workers = WorkerProcesses(temporal_server, task_queue=f"bench-workers-{uuid.uuid4()}", log_dir=tmp_path)
    one, two = [], []
    try:
        first = workers.start()
        for _ in range(size.rounds):
            one.append(workers.measure(size.commands, size.warm_up, [first]))
            second = workers.start()
            two.append(workers.measure(size.commands, size.warm_up, [first, second]))
            workers.stop(second)
        workers.stop(first)
    finally:
        workers.kill_all()
    for comparison in compare(one, two):
        bench.report(comparison)


def compare(one: list, two: list) -> list[Comparison]:
    rate = lambda runs: statistics.median(r for r, _ in runs)  # noqa: E731
    p50 = lambda runs: statistics.median(percentile(l, 0.5) for _, l in runs)  # noqa: E731
    label = f"commands, concurrency {CONCURRENCY}, two worker processes"
    return [
        Comparison(f"{label}: throughput", "cmd/s", rate(two), rate(one), BASELINE),
        Comparison(f"{label}: p50 latency", "ms", p50(two), p50(one), BASELINE, higher_is_better=False),
    ]


class WorkerProcesses:
    """`manage.py temporal_worker` processes on one task queue, started and stopped as an operator would."""

    def __init__(self, temporal_server, *, task_queue: str, log_dir: Path):
        self.temporal, self.task_queue, self.log_dir = temporal_server, task_queue, log_dir
        self.env = command_env(TEMPORAL_ADDRESS=temporal_server.address, WORKER_PROCESSES="2",
                               LEDGER_SIGN_INTERVAL=SCHEDULE_INTERVAL, VERIFY_INTERVAL=SCHEDULE_INTERVAL)
        self.running: list[subprocess.Popen] = []
        self.logs: dict[int, Path] = {}  # by process id
        self.workflow_ids: list[str] = []  # of the commands measured last

    def start(self) -> subprocess.Popen:
        """A new worker, returned once it polls for workflow and activity tasks on the queue."""
        log = self.log_dir / f"worker-{len(self.running) + 1}-{time.monotonic_ns()}.log"
        with open(log, "w") as output:  # the child keeps its own copy
            process = manage("temporal_worker", "--task-queue", self.task_queue, "--no-catch-up", "--no-webhooks",
                             env=self.env, output=output)
        self.running.append(process)
        self.logs[process.pid] = log
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self.temporal.run(self._polls(identity(process))):
            assert process.poll() is None, f"the worker exited with {process.returncode}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"the worker did not poll within {STARTUP_SECONDS}s:\n{log.read_text()}"
            time.sleep(0.5)
        return process

    async def _polls(self, identity: str) -> bool:
        kinds = (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)
        for kind in kinds:
            described = await self.temporal.client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
                namespace=self.temporal.client.namespace, task_queue=TaskQueue(name=self.task_queue),
                task_queue_type=kind))
            if identity not in {poller.identity for poller in described.pollers}:
                return False
        return True

    def measure(self, commands: int, warm_up: int, serving: list[subprocess.Popen]) -> tuple[float, list[float]]:
        """Commands/s and latencies (ms) of `commands` CREATEs at concurrency 50, after a warm-up."""
        self._wait_until_quiet()
        self.temporal.run(run(self._command, warm_up, CONCURRENCY), timeout=None)
        self.workflow_ids = []
        measured = self.temporal.run(run(self._command, commands, CONCURRENCY), timeout=None)
        assert all(process.poll() is None for process in serving), "a worker died during the round"
        served = self.temporal.run(self._identities_that_served(self.workflow_ids[:SAMPLE]), timeout=None)
        assert served == {identity(process) for process in serving}, f"{served} served the round"
        return measured.rate, measured.latencies

    async def _command(self) -> None:
        result = await submit_command(self.temporal.client, new_request(), task_queue=self.task_queue, timeout=300)
        assert result.success, result.message
        self.workflow_ids.append(result.workflow_id)

    async def _identities_that_served(self, workflow_ids: list[str]) -> set[str]:
        """The workers that completed workflow tasks of these commands."""
        identities = set()
        for workflow_id in workflow_ids:
            history = await self.temporal.client.get_workflow_handle(workflow_id).fetch_history()
            identities |= {event.workflow_task_completed_event_attributes.identity for event in history.events
                           if event.HasField("workflow_task_completed_event_attributes")}
        return identities

    def _wait_until_quiet(self) -> None:
        """Until no workflow runs on the queue: the schedules a worker's start triggers have finished."""
        query = f'TaskQueue="{self.task_queue}" AND ExecutionStatus="Running"'
        deadline = time.monotonic() + STARTUP_SECONDS
        while (running := self.temporal.run(self.temporal.client.count_workflows(query))).count:
            assert time.monotonic() < deadline, f"{running.count} workflow(s) still run on the queue"
            time.sleep(0.5)

    def stop(self, process: subprocess.Popen) -> None:
        """SIGTERM, as a supervisor stops a worker: it drains and exits with status 0."""
        process.send_signal(signal.SIGTERM)
        log = self.logs[process.pid].read_text
        assert process.wait(120) == 0, f"the worker exited with {process.returncode}:\n{log()}"
        assert "Worker stopped" in log()
        self.running.remove(process)

    def kill_all(self) -> None:
        for process in self.running:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait(60)


def identity(process: subprocess.Popen) -> str:
    """The Temporal SDK's default identity of a client and its workers in that process."""
    return f"{process.pid}@{socket.gethostname()}"
