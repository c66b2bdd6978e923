"""Payment commands through PaymentEventSourcingWorkflow and its activities beside two baselines, so
the reader sees both costs: a bare workflow of the same activity shape that touches no database
(what our database work costs), and the same activities called directly from threads, without
Temporal (what Temporal costs): commands/s and p50/p99 latency at concurrency 1 and 50.

The workflows run on one worker of this benchmark, polling the suite's Temporal dev server, with as
many activity threads as `temporal_worker` runs by default (`ACTIVITY_THREADS`); the activities
without Temporal run on the same threads."""

import asyncio
import logging
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import NamedTuple

import pytest
from temporalio.worker import Worker

from analytics.percentiles import percentile
from eventstore.temporal.activities import append_events_activity, apply_prompt_projections_activity
from eventstore.temporal.messages import AppendRequest, EventInput, PromptProjectionsRequest
from eventstore.temporal.worker import ACTIVITY_THREADS, worker_options
from payments.activities import load_payment
from payments.client import start_options, submit_command
from payments.domain import AGGREGATE_TYPE, SCHEMA_VERSION, CommandType, PaymentAggregate, PaymentCommand
from payments.messages import LoadPaymentRequest, PaymentCommandRequest
from tests.benchmarks.bare_workflow import BARE_ACTIVITIES, BareCommandWorkflow
from tests.benchmarks.cpu import CpuMeter, CpuUse
from tests.benchmarks.measure import Comparison, cpu_comparisons
from tests.eventstore.command_activities import run_as_command

pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600), pytest.mark.django_db(transaction=True)]

FULL = dict(commands=400, serial=60, rounds=2)  # commands per measurement at concurrency 50 and at 1
QUICK = dict(commands=100, serial=10, rounds=1)
BASELINE = "bare workflow, same shape"
WITHOUT_TEMPORAL = "same activities without Temporal"


def new_request() -> PaymentCommandRequest:
    return PaymentCommandRequest("CREATE", f"payment-bench-{uuid.uuid4().hex}", "org-bench", "user-bench",
                                 "125.50", "EUR", "benchmark")


def test_commands_beside_a_bare_workflow_of_the_same_shape(bench, size, temporal_server, caplog):
    caplog.set_level(logging.WARNING, logger="temporalio.workflow")  # not one line per command
    bench.describe_data(f"{size.serial} commands at concurrency 1 and {size.commands} at concurrency 50 per round, "
                        f"{size.rounds} rounds; an in-process worker on the same Temporal dev server")
    comparisons = temporal_server.run(measure(temporal_server.client, size, CpuMeter()), timeout=None)
    for comparison in comparisons:
        bench.report(comparison)


async def measure(client, size, meter: CpuMeter) -> list[Comparison]:
    task_queue, comparisons = f"bench-{uuid.uuid4()}", []
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        options = worker_options(extra_workflows=(BareCommandWorkflow,), extra_activities=tuple(BARE_ACTIVITIES))
        worker = Worker(client, task_queue=task_queue, **options, activity_executor=executor,
                        max_concurrent_activities=ACTIVITY_THREADS)
        async with worker:
            await warm_up(client, task_queue, executor)
            for concurrency, count in ((1, size.serial), (50, size.commands)):
                comparisons += await compare(client, task_queue, executor, concurrency, count, size.rounds, meter)
    return comparisons


async def warm_up(client, task_queue, executor):
    """Every activity thread opens its database connection here, not in a measured command."""
    await run(lambda: real(client, task_queue), 100, 50)
    await run(lambda: bare(client, task_queue), 100, 50)
    await run(lambda: without_temporal(executor), 100, 50)


async def real(client, task_queue):
    result = await submit_command(client, new_request(), task_queue=task_queue, timeout=120)
    assert result.success, result.message


async def bare(client, task_queue):
    """Started with the options every command starts with (id policies, memo, search attributes)."""
    request = replace(new_request(), idempotency_key=str(uuid.uuid4()))
    handle = await client.start_workflow(BareCommandWorkflow.run, request, task_queue=task_queue,
                                         **start_options(request, uuid.uuid4().hex))
    await handle.result()


async def without_temporal(executor):
    await asyncio.get_running_loop().run_in_executor(executor, command_without_temporal, new_request())


def command_without_temporal(request: PaymentCommandRequest) -> None:
    """The workflow's steps in order, each activity called as the worker calls it, minus Temporal."""
    command_id = str(uuid.uuid4())
    loaded = load_payment(LoadPaymentRequest(request.payment_id, command_id))
    command = PaymentCommand(CommandType.CREATE, request.payment_id, request.organization_id, request.user_id,
                             request.amount, request.currency, request.description, datetime.now(UTC))
    new_events = PaymentAggregate.from_snapshot(loaded.state).execute(command)
    metadata = {"correlation_id": command_id, "causation_id": command_id, "command": "CREATE",
                "user_id": request.user_id, "organization_id": request.organization_id, "workflow_id": "",
                "run_id": "", "schema_version": SCHEMA_VERSION}
    appended = run_as_command(append_events_activity, AppendRequest(
        request.payment_id, AGGREGATE_TYPE, [EventInput(e.event_type, e.data, metadata, str(uuid.uuid4()))
                                             for e in new_events],
        expected_version="0", apply_prompt_projections=True))
    if appended.prompt_projections_pending:
        newest = appended.events[-1]
        apply_prompt_projections_activity(PromptProjectionsRequest(appended.stream_id, newest.transaction_id,
                                                                   newest.position))


class Run(NamedTuple):
    rate: float  # commands/s
    latencies: list[float]  # ms
    cpu: CpuUse | None  # per command


async def run(one, count: int, concurrency: int, meter: CpuMeter | None = None) -> Run:
    """Run `count` commands, `concurrency` at a time, with the CPU they cost if a meter is given."""
    slots, latencies = asyncio.Semaphore(concurrency), []
    before = meter.sample() if meter else None

    async def timed_one():
        async with slots:
            started = time.perf_counter()
            await one()
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(timed_one() for _ in range(count)))
    rate = count / (time.perf_counter() - started)
    return Run(rate, latencies, meter.used_since(before).per_operation(count) if meter else None)


TARGETS = {1: (0.95, 1.1), 50: (0.9, 1.2)}  # issue 18: throughput at least, p50 at most, vs the bare workflow


async def compare(client, task_queue, executor, concurrency, count, rounds, meter) -> list[Comparison]:
    """At concurrency 50 every core is busy, so the CPU a command costs each process is reported too."""
    meter = meter if concurrency > 1 else None
    real_runs, bare_runs, direct_runs = [], [], []
    for _ in range(rounds):
        bare_runs.append(await run(lambda: bare(client, task_queue), count, concurrency, meter))
        real_runs.append(await run(lambda: real(client, task_queue), count, concurrency, meter))
        direct_runs.append(await run(lambda: without_temporal(executor), count, concurrency, meter))
    label = f"commands, concurrency {concurrency}"
    rate = lambda runs: statistics.median(each.rate for each in runs)  # noqa: E731
    latency = lambda runs, q: statistics.median(percentile(each.latencies, q) for each in runs)  # noqa: E731
    throughput_target, p50_target = TARGETS[concurrency]
    comparisons = [
        Comparison(f"{label}: throughput", "cmd/s", rate(real_runs), rate(bare_runs), BASELINE,
                   target=throughput_target),
        Comparison(f"{label}: p50 latency", "ms", latency(real_runs, 0.5), latency(bare_runs, 0.5), BASELINE,
                   higher_is_better=False, target=p50_target),
        Comparison(f"{label}: p99 latency", "ms", latency(real_runs, 0.99), latency(bare_runs, 0.99), BASELINE,
                   higher_is_better=False),
        Comparison(f"{label}: throughput", "cmd/s", rate(real_runs), rate(direct_runs), WITHOUT_TEMPORAL),
        Comparison(f"{label}: p50 latency", "ms", latency(real_runs, 0.5), latency(direct_runs, 0.5),
                   WITHOUT_TEMPORAL, higher_is_better=False),
    ]
    return comparisons + (cpu_rows(label, real_runs, bare_runs, direct_runs) if meter else [])


def cpu_rows(label: str, real_runs: list[Run], bare_runs: list[Run], direct_runs: list[Run]) -> list[Comparison]:
    """CPU per command beside each baseline's: the bare workflow's (Temporal without our work) and the
    same activities' without Temporal (our work without Temporal)."""
    real_cpu = CpuUse.median([each.cpu for each in real_runs])
    return [
        *cpu_comparisons(f"{label}, per command", real_cpu, CpuUse.median([each.cpu for each in bare_runs]), BASELINE,
                         unit="ms", scale=1e3),
        *cpu_comparisons(f"{label}, per command", real_cpu, CpuUse.median([each.cpu for each in direct_runs]),
                         WITHOUT_TEMPORAL, unit="ms", scale=1e3),
    ]
