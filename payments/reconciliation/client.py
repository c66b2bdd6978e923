"""Starting reconciliation workflows from Django code, by method reference."""

import asyncio

from django.conf import settings
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from eventstore.temporal.connection import shared_client, shared_loop
from payments.reconciliation.messages import ReconciliationRequest, ResolutionOutcome, ResolutionRequest
from payments.reconciliation.workflows import ReconciliationResolutionWorkflow, ReconciliationWorkflow

RESOLUTION_TIMEOUT = 30.0


def start_reconciliation(reconciliation_id: int, key: str) -> str:
    """Start the run's workflow (once: a repeat attaches to it); its workflow id. TemporalUnavailable
    when Temporal cannot be reached."""
    workflow_id, client = f"reconciliation:{key}", shared_client()

    async def start():
        await client.start_workflow(
            ReconciliationWorkflow.run, ReconciliationRequest(reconciliation_id), id=workflow_id,
            task_queue=settings.TEMPORAL_TASK_QUEUE, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)

    shared_loop().run(start(), timeout=30)
    return workflow_id


class AlreadyResolved(Exception):
    pass


def resolve(request: ResolutionRequest, key: str) -> ResolutionOutcome:
    """Run the finding's resolution workflow (one per finding of the run `key`) and wait for it;
    AlreadyResolved when it ran before."""
    workflow_id = f"reconciliation:{key}:finding:{request.number}"
    client = shared_client()

    async def run():
        try:
            handle = await client.start_workflow(
                ReconciliationResolutionWorkflow.run, request, id=workflow_id, task_queue=settings.TEMPORAL_TASK_QUEUE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
        except WorkflowAlreadyStartedError:
            raise AlreadyResolved(f"Finding {request.number} was already resolved.") from None
        return await asyncio.wait_for(handle.result(), RESOLUTION_TIMEOUT)

    outcome = shared_loop().run(run(), timeout=RESOLUTION_TIMEOUT + 10)
    if not outcome.resolved:
        raise AlreadyResolved(f"Finding {request.number} was already resolved.")
    return outcome
