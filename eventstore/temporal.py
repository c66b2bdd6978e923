"""Temporal plumbing for Django code: one client per process, and the wrapper every activity needs.

Which workflows and activities exist is declared by the apps (`eventstore.registry`); the worker
(`manage.py temporal_worker`) and the test suite register exactly those (`worker_options`). Clients
and workers use `data_converter()`, which decodes the inputs of those workflows strictly
(`eventstore.temporal_inputs`): any Temporal client's malformed input fails its workflow at once.
"""

import asyncio
import functools
import threading
from datetime import timedelta
from pathlib import Path
from typing import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
)
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime
from temporalio.service import RPCError, TLSConfig
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from eventstore import registry
from eventstore.temporal_inputs import WorkflowInputCheck
from eventstore.temporal_inputs import data_converter as input_checking_converter


class TemporalUnavailable(Exception):
    """The Temporal frontend could not be reached: nothing was started."""


async def connect(*, address: str | None = None, namespace: str | None = None, runtime: Runtime | None = None) -> Client:
    """A client of the configured namespace, with the configured TLS and API key; TemporalUnavailable
    when nobody answers."""
    address = address or settings.TEMPORAL_ADDRESS
    try:
        return await Client.connect(address, namespace=namespace or settings.TEMPORAL_NAMESPACE,
                                    data_converter=data_converter(), tls=tls_config(),
                                    api_key=settings.TEMPORAL_API_KEY or None, runtime=runtime)
    except (RuntimeError, RPCError) as error:  # the SDK's connection failures
        raise TemporalUnavailable(f"Temporal is unreachable at {address}: {error}") from None


def tls_config() -> TLSConfig | bool:
    """TLS from TEMPORAL_TLS_* (PEM files); plain TCP unless TEMPORAL_TLS or one of them is set.
    An API key (Temporal Cloud) implies TLS with the system's CAs."""
    files = {name: getattr(settings, f"TEMPORAL_TLS_{name.upper()}") for name in ("server_ca", "client_cert", "client_key")}
    if not (settings.TEMPORAL_TLS or any(files.values()) or settings.TEMPORAL_TLS_SERVER_NAME or settings.TEMPORAL_API_KEY):
        return False
    read = {name: _pem(f"TEMPORAL_TLS_{name.upper()}", path) for name, path in files.items()}
    return TLSConfig(server_root_ca_cert=read["server_ca"], client_cert=read["client_cert"],
                     client_private_key=read["client_key"], domain=settings.TEMPORAL_TLS_SERVER_NAME or None)


def _pem(setting: str, path: str) -> bytes | None:
    if not path:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise ImproperlyConfigured(f"{setting}={path} cannot be read: {error.strerror}.") from None


def data_converter() -> DataConverter:
    """The SDK's default converter, except that the declared workflows' inputs are decoded strictly."""
    return input_checking_converter(registry.workflows())


# Activities a worker runs at once, each on a thread of its own (`temporal_worker --concurrency`). More
# threads than this added no throughput on two cores and cost CPU: the activities' Python shares one
# interpreter lock with the workflows' event loop, and every hand-over of it is work (bench_payments).
ACTIVITY_THREADS = 20


def worker_options(*, extra_workflows: tuple = (), extra_activities: tuple = (), strict_sandbox: bool = False) -> dict:
    """What every worker of the project registers: the declared workflows and activities (and any
    extra ones, as a benchmark's baseline), the check that fails a workflow started with the wrong
    number of inputs, and the sandbox (`workflow_runner`). The worker's client must use
    `data_converter()`."""
    workflows = [*registry.workflows(), *extra_workflows]
    return dict(workflows=workflows, activities=[*registry.activities(), *extra_activities],
                interceptors=[WorkflowInputCheck()], workflow_runner=workflow_runner(workflows, strict=strict_sandbox))


def workflow_runner(workflows, *, strict: bool) -> SandboxedWorkflowRunner:
    """The sandbox. By default it imports a workflow's module anew for every run, which costs more CPU
    than our workflows themselves, and in exchange refuses non-deterministic calls (the clock,
    randomness, I/O) made from that module. Production workers pass our workflow modules through:
    they hold no state, and import only pure code (the import contracts keep them so). The test suite
    runs every workflow in the strict sandbox (`strict=True`), where such a call fails the test."""
    restrictions = SandboxRestrictions.default
    if not strict:
        restrictions = restrictions.with_passthrough_modules(*sorted({workflow.__module__ for workflow in workflows}))
    return SandboxedWorkflowRunner(restrictions=restrictions)


class BackgroundLoop:
    """An event loop on a daemon thread, so synchronous Django code can await Temporal calls."""

    def __init__(self, name: str = "temporal-client"):
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coroutine, timeout: float | None = None):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)


_shared: dict = {}
_shared_lock = threading.Lock()


def shared_loop() -> BackgroundLoop:
    with _shared_lock:
        if "loop" not in _shared:
            _shared["loop"] = BackgroundLoop()
        return _shared["loop"]


def shared_client() -> Client:
    """One connected client per process, living on the shared background loop.

    Raises TemporalUnavailable when the server does not answer.
    """
    with _shared_lock:
        client = _shared.get("client")
    if client is None:
        client = shared_loop().run(connect(), timeout=30)
        with _shared_lock:
            client = _shared.setdefault("client", client)
    return client


def django_activity(function: Callable) -> Callable:
    """Run a sync activity with fresh database connections: workers get no request signals."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return wrapper


async def ensure_schedules(client: Client, task_queue: str) -> list[str]:
    """Create each declared schedule, or bring an existing one to its declared workflow and the
    interval its setting holds now: running it on every worker start changes nothing else. A new
    schedule runs once at once, so a fresh install shows its first result (a signed head, a
    verification) without waiting a whole interval."""
    ensured = []
    for declared in registry.schedules():
        schedule = Schedule(
            action=ScheduleActionStartWorkflow(declared.workflow, declared.argument, id=f"{declared.schedule_id}-run",
                                               task_queue=task_queue),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(
                every=timedelta(seconds=getattr(settings, declared.interval_setting)))]),
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        )
        try:
            await client.create_schedule(declared.schedule_id, schedule, trigger_immediately=True)
        except ScheduleAlreadyRunningError:
            await client.get_schedule_handle(declared.schedule_id).update(
                lambda _current, schedule=schedule: ScheduleUpdate(schedule=schedule))
        ensured.append(declared.schedule_id)
    return ensured
