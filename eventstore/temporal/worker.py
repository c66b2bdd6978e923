"""What every worker of the project runs: the declared workflows and activities
(`eventstore.registry`), the sandbox, the wrapper every Django activity needs, how an activity
declares the signature it implements, and the schedules.

`manage.py temporal_worker` and the test suite register exactly what `worker_options` returns.
"""

import functools
import inspect
from datetime import timedelta
from typing import Any, Callable

from django.conf import settings
from django.db import close_old_connections
from temporalio import activity
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
from temporalio.worker.workflow_sandbox import (
    SandboxedWorkflowRunner,
    SandboxRestrictions,
)

from eventstore import registry
from eventstore.temporal.inputs import WorkflowInputCheck

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


def implements(signature: Callable) -> Callable[[Callable], Callable]:
    """Register the decorated function as the activity `signature` declares (a function of an
    `activity_signatures` module, which workflows call in its place): under the signature's name.
    Fails at import when the function's parameter or return types differ from the signature's."""
    name = activity._Definition.must_from_callable(signature).name  # the SDK has no public reader of it

    def register(function: Callable) -> Callable:
        if _types(function) != _types(signature):
            raise TypeError(f"{function.__module__}.{function.__qualname__} {_shown(_types(function))} does not "
                            f"match the signature it implements, {signature.__module__}.{signature.__qualname__} "
                            f"{_shown(_types(signature))}.")
        return activity.defn(name=name)(function)

    return register


def _types(function: Callable) -> tuple[list[Any], Any]:
    """The parameter and return annotations of `function` (of what it wraps, for a decorated one)."""
    signature = inspect.signature(function, eval_str=True)
    return [parameter.annotation for parameter in signature.parameters.values()], signature.return_annotation


def _shown(types: tuple[list[Any], Any]) -> str:
    def shown(annotation: Any) -> str:
        return "(no annotation)" if annotation is inspect.Parameter.empty else inspect.formatannotation(annotation)

    parameters, returned = types
    return f"({', '.join(shown(each) for each in parameters)}) -> {shown(returned)}"


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
