"""The worker's sandbox: production workers pass the workflow modules through (no import per run);
the suite's strict sandbox refuses non-deterministic calls made from them."""

import asyncio
import uuid
from datetime import timedelta

from temporalio.api.enums.v1 import EventType

from eventstore.temporal.worker import worker_options
from tests.eventstore.sandbox_workflows import MODULE_MARKER, ClockReadingWorkflow, ModuleIdentityWorkflow

PROBES = (ModuleIdentityWorkflow, ClockReadingWorkflow)


def run_on_own_worker(temporal_server, scenario, *, strict: bool):
    task_queue = f"sandbox-{uuid.uuid4()}"
    worker = temporal_server.worker(task_queue=task_queue, **worker_options(extra_workflows=PROBES, strict_sandbox=strict))

    async def run():
        async with worker:
            return await scenario(temporal_server.client, task_queue)

    return temporal_server.run(run(), timeout=120)


def test_production_workers_do_not_import_workflow_modules_again_for_each_run(temporal_server):
    async def two_runs(client, task_queue):
        return [await client.execute_workflow(ModuleIdentityWorkflow.run, id=f"identity-{uuid.uuid4()}",
                                              task_queue=task_queue) for _ in range(2)]

    assert run_on_own_worker(temporal_server, two_runs, strict=False) == [id(MODULE_MARKER)] * 2
    assert id(MODULE_MARKER) not in run_on_own_worker(temporal_server, two_runs, strict=True)


def test_the_suites_strict_sandbox_refuses_the_clock_in_workflow_code(temporal_server):
    async def failed_task(client, task_queue):
        handle = await client.start_workflow(ClockReadingWorkflow.run, id=f"clock-{uuid.uuid4()}",
                                             task_queue=task_queue, task_timeout=timedelta(seconds=5))
        try:
            for _ in range(200):
                failures = [event.workflow_task_failed_event_attributes.failure.message
                            async for event in handle.fetch_history_events()
                            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]
                if failures:
                    return failures[0]
                await asyncio.sleep(0.1)
            return None
        finally:
            await handle.terminate()

    message = run_on_own_worker(temporal_server, failed_task, strict=True)
    assert message is not None and "datetime.now" in message
