"""Payment commands with their Temporal payloads encrypted (AES-256-GCM, the codec every client and
worker uses) beside the same commands with plain payloads, in the same run: what encryption costs a
command. Two in-process workers poll the suite's dev server, each with the converter of its client;
the two kinds of command alternate round by round. Below them, one command request's payload alone:
encrypted and decrypted beside converted to JSON and back."""

import dataclasses
import logging
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from analytics.percentiles import percentile
from eventstore.temporal.connection import data_converter
from eventstore.temporal.payload_codec import payload_codec
from eventstore.temporal.worker import ACTIVITY_THREADS, worker_options
from payments.client import submit_command
from tests.benchmarks.measure import Comparison
from tests.benchmarks.test_payments import new_request, run

pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600), pytest.mark.django_db(transaction=True)]

FULL = dict(commands=300, serial=60, rounds=3, payloads=20_000)
QUICK = dict(commands=60, serial=10, rounds=1, payloads=2_000)
BASELINE = "same commands, plain payloads"


def test_commands_with_encrypted_payloads_beside_plain_ones(bench, size, temporal_server, caplog):
    caplog.set_level(logging.WARNING, logger="temporalio.workflow")  # not one line per command
    bench.describe_data(f"{size.serial} commands at concurrency 1 and {size.commands} at concurrency 50 of each kind "
                        f"per round, {size.rounds} rounds; {size.payloads} payloads alone")
    for comparison in [*temporal_server.run(measure(temporal_server.client, size), timeout=None), payload_alone(size)]:
        bench.report(comparison)


async def measure(encrypting: Client, size) -> list[Comparison]:
    plain = Client(encrypting.service_client, namespace=encrypting.namespace,
                   data_converter=dataclasses.replace(data_converter(), payload_codec=None))
    queues = {"encrypted": f"bench-encrypted-{uuid.uuid4()}", "plain": f"bench-plain-{uuid.uuid4()}"}
    clients = {"encrypted": encrypting, "plain": plain}
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        workers = [Worker(clients[kind], task_queue=queues[kind], **worker_options(), activity_executor=executor,
                          max_concurrent_activities=ACTIVITY_THREADS) for kind in queues]
        async with workers[0], workers[1]:
            command = {kind: (lambda kind=kind: one_command(clients[kind], queues[kind])) for kind in queues}
            for kind in queues:
                await run(command[kind], 50, 25)  # warm-up: connections opened, code paths taken
            comparisons = []
            for concurrency, count in ((1, size.serial), (50, size.commands)):
                runs = {"encrypted": [], "plain": []}
                for _ in range(size.rounds):
                    for kind in ("plain", "encrypted"):
                        runs[kind].append(await run(command[kind], count, concurrency))
                comparisons += compared(f"commands, concurrency {concurrency}", runs)
    return comparisons


async def one_command(client: Client, task_queue: str) -> None:
    result = await submit_command(client, new_request(), task_queue=task_queue, timeout=120)
    assert result.success, result.message


def compared(label: str, runs: dict) -> list[Comparison]:
    rate = lambda kind: statistics.median(each.rate for each in runs[kind])  # noqa: E731
    p50 = lambda kind: statistics.median(percentile(each.latencies, 0.5) for each in runs[kind])  # noqa: E731
    return [Comparison(f"{label}: throughput", "cmd/s", rate("encrypted"), rate("plain"), BASELINE),
            Comparison(f"{label}: p50 latency", "ms", p50("encrypted"), p50("plain"), BASELINE, higher_is_better=False)]


def payload_alone(size) -> Comparison:
    """One command request's payload: to JSON, encrypted, decrypted and back, beside JSON alone."""
    converter, codec, request = data_converter().payload_converter, payload_codec(), new_request()

    def json_only():
        converter.from_payload(converter.to_payload(request), type(request))

    def encrypted():
        converter.from_payload(codec.decrypt(codec.encrypt(converter.to_payload(request))), type(request))

    seconds = {}
    for name, work in (("json", json_only), ("encrypted", encrypted), ("json", json_only), ("encrypted", encrypted)):
        started = time.perf_counter()
        for _ in range(size.payloads):
            work()
        seconds[name] = min(seconds.get(name, float("inf")), time.perf_counter() - started)
    per = lambda name: seconds[name] / size.payloads * 1e6  # noqa: E731
    return Comparison("one payload there and back", "µs", per("encrypted"), per("json"), "JSON conversion alone",
                      higher_is_better=False)
