"""Workflow metrics from Temporal's visibility API: per workflow type, how many started, completed,
failed and are running, and average and p95 execution time, over a window; cached briefly so that
dashboards do not hammer the server."""

import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from temporalio.client import Client

from analytics.percentiles import percentile
from eventstore import registry
from eventstore.temporal.connection import shared_client, shared_loop

FAILED_STATUSES = ("Failed", "TimedOut", "Terminated", "Canceled")


@dataclass(frozen=True)
class WorkflowTypeMetrics:
    workflow_type: str
    started: int
    completed: int
    failed: int
    running: int
    average_seconds: float | None
    p95_seconds: float | None
    durations_sampled: int


def workflow_types() -> list[str]:
    return sorted(definition.__temporal_workflow_definition.name for definition in registry.workflows())


def workflow_metrics(*, window: timedelta = timedelta(hours=24), sample: int = 500) -> list[WorkflowTypeMetrics]:
    """Metrics of every workflow type the project defines, started within `window` from now."""
    key = f"analytics:workflow-metrics:{int(window.total_seconds())}:{sample}"
    metrics = cache.get(key)
    if metrics is None:
        metrics = shared_loop().run(collect(shared_client(), window=window, sample=sample), timeout=60)
        cache.set(key, metrics, timeout=settings.ANALYTICS_METRICS_CACHE_SECONDS)
    return metrics


async def collect(client: Client, *, window: timedelta, sample: int) -> list[WorkflowTypeMetrics]:
    since = (datetime.now(UTC) - window).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [await _metrics_of(client, workflow_type, since, sample) for workflow_type in workflow_types()]


async def _metrics_of(client: Client, workflow_type: str, since: str, sample: int) -> WorkflowTypeMetrics:
    scope = f"WorkflowType = '{workflow_type}' AND StartTime >= '{since}'"
    counts = await client.count_workflows(f"{scope} GROUP BY ExecutionStatus")
    by_status = {str(group.group_values[0]): group.count for group in counts.groups}
    durations = []
    async for execution in client.list_workflows(f"{scope} AND ExecutionStatus = 'Completed'", limit=sample):
        if execution.close_time and execution.start_time:
            durations.append((execution.close_time - execution.start_time).total_seconds())
    return WorkflowTypeMetrics(
        workflow_type=workflow_type,
        started=counts.count,
        completed=by_status.get("Completed", 0),
        failed=sum(by_status.get(status, 0) for status in FAILED_STATUSES),
        running=by_status.get("Running", 0),
        average_seconds=statistics.fmean(durations) if durations else None,
        p95_seconds=percentile(durations, 0.95) if durations else None,
        durations_sampled=len(durations),
    )
