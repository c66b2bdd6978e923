"""A worker killed mid-way loses nothing and duplicates nothing: another worker finishes the work."""

import asyncio
import time
import uuid

import pytest

from eventstore.models import Event
from payments.client import submit_command
from tests.processes import command_env, manage

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.crash]

COMMANDS = 200


def start_worker(task_queue, address, log):
    return manage("temporal_worker", "--task-queue", task_queue, "--no-catch-up",
                  env=command_env(TEMPORAL_ADDRESS=address), output=log)


def test_sigkilled_worker_loses_and_duplicates_nothing(temporal_server, tmp_path, command_request):
    task_queue, prefix = f"crash-{uuid.uuid4()}", f"crash{uuid.uuid4().hex[:8]}"
    commands = [command_request(payment_id=f"{prefix}-{index}", amount="1.00") for index in range(COMMANDS)]
    log = open(tmp_path / "workers.log", "w")
    first = start_worker(task_queue, temporal_server.address, log)
    second = None
    try:
        async def submit_all():
            return await asyncio.gather(*(
                submit_command(temporal_server.client, command, task_queue=task_queue, timeout=240)
                for command in commands
            ))

        pending = temporal_server.schedule(submit_all())
        deadline = time.monotonic() + 120
        while Event.objects.filter(stream_id__startswith=f"payment-{prefix}").count() < COMMANDS // 4:
            assert time.monotonic() < deadline, "the first worker made no progress"
            time.sleep(0.05)
        first.kill()
        first.wait()
        written_before_kill = Event.objects.filter(stream_id__startswith=f"payment-{prefix}").count()
        second = start_worker(task_queue, temporal_server.address, log)

        results = pending.result(timeout=300)
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.kill()
                worker.wait()
        log.close()

    assert written_before_kill < COMMANDS, "the worker was killed too late to prove anything"
    assert all(result.success for result in results), [r.message for r in results if not r.success][:3]
    per_stream = Event.objects.filter(stream_id__startswith=f"payment-{prefix}").values_list("stream_id", flat=True)
    assert sorted(per_stream) == sorted(f"payment-{prefix}-{index}" for index in range(COMMANDS))
