"""Starting reconciliation workflows from Django code, by method reference."""

import asyncio
from dataclasses import replace

from django.conf import settings
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from eventstore.actors import Actor
from eventstore.temporal.actor_seals import seal_actor
from eventstore.temporal.connection import shared_client, shared_loop
from payments.reconciliation.messages import ReconciliationRequest, ResolutionOutcome, ResolutionRequest
from payments.reconciliation.workflows import ReconciliationResolutionWorkflow, ReconciliationWorkflow

RESOLUTION_TIMEOUT = 30.0


def start_reconciliation(reconciliation_id: int, key: str, actor: Actor) -> str:
    """Start the run's workflow (once: a repeat attaches to it) on behalf of `actor`; its workflow id.
    TemporalUnavailable when Temporal cannot be reached."""
    workflow_id, client = f"reconciliation:{key}", shared_client()
    request = ReconciliationRequest(reconciliation_id, actor_seal=seal_actor(actor, workflow_id=workflow_id))

    async def start():
        await client.start_workflow(
            ReconciliationWorkflow.run, request, id=workflow_id,
            task_queue=settings.TEMPORAL_TASK_QUEUE, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)

    shared_loop().run(start(), timeout=30)
    return workflow_id


class AlreadyResolved(Exception):
    pass


def resolve(request: ResolutionRequest, key: str, actor: Actor) -> ResolutionOutcome:
    """Run the finding's resolution workflow (one per finding of the run `key`) on behalf of `actor`
    and wait for it; AlreadyResolved when it ran before."""
    workflow_id = f"reconciliation:{key}:finding:{request.number}"
    request = replace(request, actor_seal=seal_actor(actor, workflow_id=workflow_id))
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
