"""`manage.py bench_payments`: commands through the real worker beside a bare workflow of the same shape."""

import asyncio
import logging
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from django.core.management.base import BaseCommand
from temporalio.worker import Worker

from config.temporal import all_activities, all_workflows, connect
from eventstore.benchmarking import Comparison, describe_data, report, scratch_database
from payments.bench_baseline import BARE_ACTIVITIES, BareCommandWorkflow
from payments.client import submit_command
from payments.messages import PaymentCommandRequest


def new_request() -> PaymentCommandRequest:
    return PaymentCommandRequest("CREATE", f"payment-bench-{uuid.uuid4().hex}", "org-bench", "user-bench",
                                 "125.50", "EUR", "benchmark")


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


class Command(BaseCommand):
    help = "Commands/s and p50/p99 latency of PaymentEventSourcingWorkflow beside a bare workflow, same run."

    def add_arguments(self, parser):
        parser.add_argument("--commands", type=int, default=400, help="Commands per measurement at concurrency 50.")
        parser.add_argument("--serial", type=int, default=60, help="Commands per measurement at concurrency 1.")
        parser.add_argument("--rounds", type=int, default=2)

    def handle(self, *args, commands, serial, rounds, **options):
        logging.getLogger("temporalio.workflow").setLevel(logging.WARNING)  # not one line per command
        with scratch_database():
            describe_data(f"{serial} commands at concurrency 1 and {commands} at concurrency 50 per round, {rounds} rounds; "
                          "an in-process worker on the same Temporal dev server")
            asyncio.run(self._bench(commands, serial, rounds))

    async def _bench(self, commands, serial, rounds):
        client = await connect()
        task_queue = f"bench-{uuid.uuid4()}"
        with ThreadPoolExecutor(max_workers=50) as executor:
            worker = Worker(client, task_queue=task_queue, workflows=[*all_workflows(), BareCommandWorkflow],
                            activities=[*all_activities(), *BARE_ACTIVITIES], activity_executor=executor,
                            max_concurrent_activities=50)
            async with worker:
                await self._warm_up(client, task_queue)
                for concurrency, count in ((1, serial), (50, commands)):
                    await self._compare(client, task_queue, concurrency, count, rounds)

    async def _warm_up(self, client, task_queue):
        await self._run(lambda: self._real(client, task_queue), 20, 10)
        await self._run(lambda: self._bare(client, task_queue), 20, 10)

    async def _real(self, client, task_queue):
        result = await submit_command(client, new_request(), task_queue=task_queue, timeout=120)
        assert result.success, result.message

    async def _bare(self, client, task_queue):
        await client.execute_workflow(BareCommandWorkflow.run, new_request(), id=f"bare-{uuid.uuid4()}",
                                      task_queue=task_queue)

    async def _run(self, one, count: int, concurrency: int) -> tuple[float, list[float]]:
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

    async def _compare(self, client, task_queue, concurrency, count, rounds):
        real, bare = [], []
        for _ in range(rounds):
            bare.append(await self._run(lambda: self._bare(client, task_queue), count, concurrency))
            real.append(await self._run(lambda: self._real(client, task_queue), count, concurrency))
        label = f"commands, concurrency {concurrency}"
        rate = lambda runs: statistics.median(r for r, _ in runs)  # noqa: E731
        latency = lambda runs, q: statistics.median(percentile(l, q) for _, l in runs)  # noqa: E731
        baseline = "bare workflow, same shape"
        report(self.stdout, Comparison(f"{label}: throughput", "cmd/s", rate(real), rate(bare), baseline, target=0.8))
        report(self.stdout, Comparison(f"{label}: p50 latency", "ms", latency(real, 0.5), latency(bare, 0.5), baseline,
                                       higher_is_better=False, target=1.5))
        report(self.stdout, Comparison(f"{label}: p99 latency", "ms", latency(real, 0.99), latency(bare, 0.99), baseline,
                                       higher_is_better=False))
