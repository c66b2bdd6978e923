"""Starting reconciliation workflows from Django code, by method reference."""

import asyncio

from django.conf import settings
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from eventstore.temporal.connection import shared_client, shared_loop
from payments.reconciliation.messages import ReconciliationRequest, ResolutionOutcome, ResolutionRequest
from payments.reconciliation.workflows import ReconciliationResolutionWorkflow, ReconciliationWorkflow

RESOLUTION_TIMEOUT = 30.0


def run_workflow_id(reconciliation_id: int) -> str:
    return f"reconciliation:{reconciliation_id}"


def start_reconciliation(reconciliation_id: int) -> str:
    """Start the run's workflow (once: a repeat attaches to it); its workflow id. TemporalUnavailable
    when Temporal cannot be reached."""
    workflow_id, client = run_workflow_id(reconciliation_id), shared_client()

    async def start():
        await client.start_workflow(
            ReconciliationWorkflow.run, ReconciliationRequest(reconciliation_id), id=workflow_id,
            task_queue=settings.TEMPORAL_TASK_QUEUE, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)

    shared_loop().run(start(), timeout=30)
    return workflow_id


class AlreadyResolved(Exception):
    pass


def resolve(request: ResolutionRequest) -> ResolutionOutcome:
    """Run the finding's resolution workflow and wait for it; AlreadyResolved when it ran before."""
    workflow_id = f"reconciliation:{request.reconciliation_id}:finding:{request.number}"
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
