"""/healthz and /readyz for a load balancer or process supervisor: JSON, no login, a few cheap checks.

/healthz: the process answers. /readyz: PostgreSQL reachable with every migration applied, Temporal
reachable, a worker polling the task queue within HEALTH_WORKER_POLL_SECONDS, and no projection
behind by more than HEALTH_PROJECTION_MAX_LAG_SECONDS; 503 naming what failed otherwise.
"""

import time

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.service import RPCError

from eventstore.projections.lag import lag
from eventstore.temporal.connection import TemporalUnavailable, shared_client, shared_loop

TEMPORAL_TIMEOUT_SECONDS = 3.0


@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    checks = {"database": _database, "temporal": _temporal_worker, "projections": _projections}
    results = {}
    for name, check in checks.items():
        problem = check() if name == "database" or results["database"]["ok"] else "not checked: no database"
        results[name] = {"ok": problem is None, **({"problem": problem} if problem else {})}
    ready = all(result["ok"] for result in results.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503)


_migrated = []  # once every migration is applied, a process only checks that PostgreSQL answers


def _database() -> str | None:
    try:
        if _migrated:
            connection.ensure_connection()
            return None
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        return f"PostgreSQL is unreachable: {str(error).strip().splitlines()[0]}"
    if pending:
        return f"{len(pending)} migrations are not applied (run manage.py migrate)"
    _migrated.append(True)
    return None


def _temporal_worker() -> str | None:
    try:
        client = shared_client()
        request = DescribeTaskQueueRequest(
            namespace=settings.TEMPORAL_NAMESPACE, task_queue=TaskQueue(name=settings.TEMPORAL_TASK_QUEUE),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
        answer = shared_loop().run(client.workflow_service.describe_task_queue(request), timeout=TEMPORAL_TIMEOUT_SECONDS)
    except (TemporalUnavailable, TimeoutError, RuntimeError, RPCError) as error:
        return f"Temporal is unreachable: {error or 'no answer in time'}"
    recent = time.time() - settings.HEALTH_WORKER_POLL_SECONDS
    if not any(poller.last_access_time.seconds >= recent for poller in answer.pollers):
        return f"no worker polled the task queue {settings.TEMPORAL_TASK_QUEUE!r} in the last {settings.HEALTH_WORKER_POLL_SECONDS:g}s"
    return None


def _projections() -> str | None:
    stalled = [each.name for each in lag() if each.seconds_behind > settings.HEALTH_PROJECTION_MAX_LAG_SECONDS]
    if stalled:
        return f"behind by more than {settings.HEALTH_PROJECTION_MAX_LAG_SECONDS:g}s: {', '.join(stalled)}"
    return None
