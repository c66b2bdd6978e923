"""Payment commands through PaymentEventSourcingWorkflow and its activities beside a bare workflow of
the same activity shape: commands/s and p50/p99 latency at concurrency 1 and 50.

Both run on one worker of this benchmark, polling the suite's Temporal dev server."""

import asyncio
import logging
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from temporalio.worker import Worker

from analytics.percentiles import percentile
from eventstore.temporal import worker_options
from payments.client import submit_command
from payments.messages import PaymentCommandRequest
from tests.benchmarks.bare_workflow import BARE_ACTIVITIES, BareCommandWorkflow
from tests.benchmarks.measure import Comparison

pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600), pytest.mark.django_db(transaction=True)]

FULL = dict(commands=400, serial=60, rounds=2)  # commands per measurement at concurrency 50 and at 1
QUICK = dict(commands=100, serial=10, rounds=1)
BASELINE = "bare workflow, same shape"


def new_request() -> PaymentCommandRequest:
    return PaymentCommandRequest("CREATE", f"payment-bench-{uuid.uuid4().hex}", "org-bench", "user-bench",
                                 "125.50", "EUR", "benchmark")


def test_commands_beside_a_bare_workflow_of_the_same_shape(bench, size, temporal_server, caplog):
    caplog.set_level(logging.WARNING, logger="temporalio.workflow")  # not one line per command
    bench.describe_data(f"{size.serial} commands at concurrency 1 and {size.commands} at concurrency 50 per round, "
                        f"{size.rounds} rounds; an in-process worker on the same Temporal dev server")
    comparisons = temporal_server.run(measure(temporal_server.client, size), timeout=None)
    for comparison in comparisons:
        bench.report(comparison)


async def measure(client, size) -> list[Comparison]:
    task_queue, comparisons = f"bench-{uuid.uuid4()}", []
    with ThreadPoolExecutor(max_workers=50) as executor:
        options = worker_options(extra_workflows=(BareCommandWorkflow,), extra_activities=tuple(BARE_ACTIVITIES))
        worker = Worker(client, task_queue=task_queue, **options, activity_executor=executor,
                        max_concurrent_activities=50)
        async with worker:
            await warm_up(client, task_queue)
            for concurrency, count in ((1, size.serial), (50, size.commands)):
                comparisons += await compare(client, task_queue, concurrency, count, size.rounds)
    return comparisons


async def warm_up(client, task_queue):
    await run(lambda: real(client, task_queue), 20, 10)
    await run(lambda: bare(client, task_queue), 20, 10)


async def real(client, task_queue):
    result = await submit_command(client, new_request(), task_queue=task_queue, timeout=120)
    assert result.success, result.message


async def bare(client, task_queue):
    await client.execute_workflow(BareCommandWorkflow.run, new_request(), id=f"bare-{uuid.uuid4()}",
                                  task_queue=task_queue)


async def run(one, count: int, concurrency: int) -> tuple[float, list[float]]:
    """Run `count` commands, `concurrency` at a time; returns commands/s and latencies (ms)."""
    slots, latencies = asyncio.Semaphore(concurrency), []

    async def timed_one():
        async with slots:
            started = time.perf_counter()
            await one()
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(timed_one() for _ in range(count)))
    return count / (time.perf_counter() - started), latencies


async def compare(client, task_queue, concurrency, count, rounds) -> list[Comparison]:
    real_runs, bare_runs = [], []
    for _ in range(rounds):
        bare_runs.append(await run(lambda: bare(client, task_queue), count, concurrency))
        real_runs.append(await run(lambda: real(client, task_queue), count, concurrency))
    label = f"commands, concurrency {concurrency}"
    rate = lambda runs: statistics.median(r for r, _ in runs)  # noqa: E731
    latency = lambda runs, q: statistics.median(percentile(l, q) for _, l in runs)  # noqa: E731
    return [
        Comparison(f"{label}: throughput", "cmd/s", rate(real_runs), rate(bare_runs), BASELINE, target=0.8),
        Comparison(f"{label}: p50 latency", "ms", latency(real_runs, 0.5), latency(bare_runs, 0.5), BASELINE,
                   higher_is_better=False, target=1.5),
        Comparison(f"{label}: p99 latency", "ms", latency(real_runs, 0.99), latency(bare_runs, 0.99), BASELINE,
                   higher_is_better=False),
    ]
