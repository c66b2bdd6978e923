"""`manage.py temporal_worker`: the Temporal worker for every workflow and activity of every app."""

import asyncio
import logging
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError
from django.db import DatabaseError, connection
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError
from temporalio.worker import Worker

from eventstore.temporal.activities import deliver_webhooks_activity
from eventstore.temporal.client import start_all_deliveries
from eventstore.temporal.command_line import TemporalCommand
from eventstore.temporal.connection import TemporalUnavailable, connect
from eventstore.temporal.messages import CatchUpRequest
from eventstore.temporal.payload_codec import payload_codec
from eventstore.temporal.search_attributes import SearchAttributesMissing, ensure_search_attributes
from eventstore.temporal.worker import ACTIVITY_THREADS, ensure_schedules, worker_options
from eventstore.temporal.workflows import CATCH_UP_WORKFLOW_ID, ProjectionCatchUpWorkflow, WebhookDeliveryWorkflow
from eventstore.web.connection_budget import check_connection_budget, use_worker_pool
from eventstore.web.metrics import serve_worker_metrics

logger = logging.getLogger("temporal_worker")


class Command(TemporalCommand):
    help = (
        "Run the Temporal worker. The first SIGINT/SIGTERM stops polling and lets running activities "
        "finish within --graceful-timeout; a second one stops at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--task-queue", default=None, help="Task queue to poll (default: TEMPORAL_TASK_QUEUE).")
        parser.add_argument("--concurrency", type=int, default=ACTIVITY_THREADS,
                            help=f"Activities run at once (threads; default {ACTIVITY_THREADS}).")
        parser.add_argument("--graceful-timeout", type=float, default=30.0, help="Seconds to let activities finish on stop.")
        parser.add_argument(
            "--no-webhooks", action="store_true",
            help="Do not deliver webhooks (their own task queue, WEBHOOK_TASK_QUEUE, and threads).",
        )
        parser.add_argument(
            "--no-catch-up", action="store_true",
            help="Do not start the projections' catch-up loop workflow (it runs once per namespace).",
        )

    def handle(self, *args, task_queue, concurrency, graceful_timeout, no_catch_up, no_webhooks, **options):
        if concurrency < 1:
            raise CommandError("--concurrency must be at least 1.")
        task_queue = task_queue or settings.TEMPORAL_TASK_QUEUE
        self._check_database()
        payload_codec()  # the keys of Temporal payloads, read before any task is taken
        if settings.WORKER_METRICS_ADDRESS:
            serve_worker_metrics(settings.WORKER_METRICS_ADDRESS)
        asyncio.run(self._serve(task_queue, concurrency, graceful_timeout, catch_up=not no_catch_up,
                                webhooks=not no_webhooks))

    def _check_database(self):
        use_worker_pool()
        try:
            connection.ensure_connection()
        except DatabaseError as error:
            raise CommandError(f"PostgreSQL is unreachable ({error}). Check DATABASE_URL.") from None
        finally:
            connection.close()
        try:
            check_connection_budget()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None

    async def _serve(self, task_queue, concurrency, graceful_timeout, catch_up, webhooks):
        try:
            client = await connect(runtime=sdk_runtime())
        except TemporalUnavailable as error:
            raise CommandError(f"{error} (namespace {settings.TEMPORAL_NAMESPACE}). Check TEMPORAL_ADDRESS.") from None
        await self._ensure_search_attributes(client)
        executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="activity")
        worker = Worker(
            client,
            task_queue=task_queue,
            **worker_options(),
            activity_executor=executor,
            max_concurrent_activities=concurrency,
            graceful_shutdown_timeout=timedelta(seconds=graceful_timeout),
        )
        stop_requested = asyncio.Event()
        self._install_signal_handlers(stop_requested)
        logger.info(
            "Worker polling %r on %s (namespace %s) with %d activity threads",
            task_queue, settings.TEMPORAL_ADDRESS, settings.TEMPORAL_NAMESPACE, concurrency,
        )
        workers = [worker]
        if webhooks and settings.WEBHOOK_TASK_QUEUE != task_queue:
            workers.append(self._webhook_worker(client, graceful_timeout))
        running = asyncio.gather(*(each.run() for each in workers))
        heartbeat = asyncio.create_task(_beat(settings.WORKER_HEARTBEAT_FILE)) if settings.WORKER_HEARTBEAT_FILE else None
        if catch_up:
            await self._start_catch_up_loop(client, task_queue)
        schedules = await ensure_schedules(client, task_queue)
        logger.info("Schedules: %s", ", ".join(schedules) or "none declared")
        if webhooks:
            started = await start_all_deliveries(client)
            logger.info("Webhook deliveries on %r: %d endpoints", settings.WEBHOOK_TASK_QUEUE, len(started))
        stopping = asyncio.create_task(stop_requested.wait())
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not running.done():
            logger.info("Stopping: letting running activities finish (up to %.0fs)", graceful_timeout)
            await asyncio.gather(*(each.shutdown() for each in workers))
        stopping.cancel()
        if heartbeat is not None:
            heartbeat.cancel()
        executor.shutdown(wait=False, cancel_futures=True)
        await running  # re-raises a fatal worker error, if any
        logger.info("Worker stopped")

    async def _ensure_search_attributes(self, client) -> None:
        """Add the search attributes the workflows carry where the namespace lacks them; refuse to
        start, in one line, when the server refuses to add them: no workflow could start there."""
        try:
            added = await ensure_search_attributes(client)
        except SearchAttributesMissing as error:
            raise CommandError(str(error)) from None
        except RPCError as error:  # the server would not list them (a key without the right): starts will tell
            logger.warning("Could not check the search attributes of namespace %s: %s", client.namespace, error.message)
            return
        if added:
            logger.info("Search attributes added to namespace %s: %s", client.namespace, ", ".join(added))

    def _webhook_worker(self, client, graceful_timeout) -> Worker:
        """Deliveries poll a task queue of their own with threads of their own: endpoints that are
        slow to answer never take the threads commands and projections run on."""
        concurrency = settings.WEBHOOK_WORKER_CONCURRENCY
        return Worker(
            client, task_queue=settings.WEBHOOK_TASK_QUEUE, workflows=[WebhookDeliveryWorkflow],
            activities=[deliver_webhooks_activity], interceptors=worker_options()["interceptors"],
            activity_executor=ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="webhook"),
            max_concurrent_activities=concurrency, graceful_shutdown_timeout=timedelta(seconds=graceful_timeout),
        )

    async def _start_catch_up_loop(self, client, task_queue) -> None:
        """Start the projections' catch-up loop unless it already runs (one per namespace)."""
        handle = await client.start_workflow(
            ProjectionCatchUpWorkflow.run, CatchUpRequest(), id=CATCH_UP_WORKFLOW_ID, task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        logger.info("Projection catch-up loop: workflow %s", handle.id)

    def _install_signal_handlers(self, stop_requested: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()

        def on_signal(signum):
            if stop_requested.is_set():
                logger.warning("Second %s: stopping now", signal.Signals(signum).name)
                os._exit(1)
            stop_requested.set()

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, on_signal, signum)


HEARTBEAT_SECONDS = 5


async def _beat(path: str) -> None:
    """Touch `path` while the worker runs: a supervisor restarts it when the file grows older than a minute."""
    while True:
        Path(path).touch()
        await asyncio.sleep(HEARTBEAT_SECONDS)


def sdk_runtime() -> Runtime | None:
    """The Temporal SDK's own metrics (and the workflows' custom ones) on TEMPORAL_METRICS_ADDRESS."""
    if not settings.TEMPORAL_METRICS_ADDRESS:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=settings.TEMPORAL_METRICS_ADDRESS)))
