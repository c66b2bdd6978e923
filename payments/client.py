"""Submitting payment commands from Django code: start (or attach to) the command's workflow and wait.

The workflow id derives from the organization and the idempotency key, and the workflow is
started with USE_EXISTING (a repeat while it runs attaches to it) and REJECT_DUPLICATE (a repeat
after it finished reads its result): a command never runs twice for one key, within the Temporal
namespace's retention period.
"""

import asyncio
import uuid
from dataclasses import replace

from django.conf import settings
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from eventstore.actors import Actor
from eventstore.temporal.actor_seals import seal_actor
from eventstore.temporal.connection import shared_client, shared_loop
from eventstore.temporal.search_attributes import explain_refused_start
from payments import search_attributes
from payments.messages import PaymentCommandRequest, PaymentCommandResult, request_fingerprint
from payments.workflows import PaymentEventSourcingWorkflow

MAX_KEY_LENGTH = 200


class CommandNotFinished(Exception):
    """Temporal or the worker did not answer in time; the command may still complete."""

    def __init__(self, workflow_id: str, timeout: float):
        self.workflow_id = workflow_id
        super().__init__(
            f"The command did not finish within {timeout:g}s; it may still complete. "
            f"Repeat the request with the same idempotency key to get its result (workflow {workflow_id})."
        )


class IdempotencyKeyReused(Exception):
    """The idempotency key was already used for a different request."""


class InvalidIdempotencyKey(ValueError):
    pass


def workflow_id_for(organization_id: str, idempotency_key: str) -> str:
    return f"payment-command:{organization_id}:{idempotency_key}"


def _with_key(request: PaymentCommandRequest) -> PaymentCommandRequest:
    key = request.idempotency_key
    if key is None or key == "":
        return replace(request, idempotency_key=str(uuid.uuid4()))
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidIdempotencyKey(f"The idempotency key must be 1 to {MAX_KEY_LENGTH} printable characters.")
    return request


def start_options(request: PaymentCommandRequest, submission: str) -> dict:
    """How every command's workflow is started (a request with its idempotency key): its id, the id
    policies that make a key run once, the memo and the search attributes."""
    return dict(
        id=workflow_id_for(request.organization_id, request.idempotency_key),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        memo={"submission": submission},
        search_attributes=search_attributes.for_command(
            payment_id=request.payment_id, organization_id=request.organization_id,
            command_type=str(request.type).upper()[:40]),
    )


async def submit_command(
    client: Client, request: PaymentCommandRequest, *, actor: Actor | None = None, task_queue: str | None = None,
    timeout: float = 30.0,
) -> PaymentCommandResult:
    """Run `request` through PaymentEventSourcingWorkflow and return its result."""
    request = _with_key(request)
    submission = uuid.uuid4().hex
    options = start_options(request, submission)
    if actor is not None:
        request = replace(request, actor_seal=seal_actor(actor, workflow_id=options["id"]))
    try:
        handle = await client.start_workflow(
            PaymentEventSourcingWorkflow.run, request, task_queue=task_queue or settings.TEMPORAL_TASK_QUEUE, **options)
    except WorkflowAlreadyStartedError:
        handle = client.get_workflow_handle_for(PaymentEventSourcingWorkflow.run, options["id"])
    except RPCError as error:  # SearchAttributesMissing when the namespace is not set up for our workflows
        raise await explain_refused_start(client, error) from None
    try:
        result = await asyncio.wait_for(handle.result(), timeout)
    except asyncio.TimeoutError:
        raise CommandNotFinished(options["id"], timeout) from None
    if result.request_fingerprint != request_fingerprint(request):
        raise IdempotencyKeyReused(
            f"The idempotency key {request.idempotency_key!r} was already used for a different request."
        )
    return replace(result, replayed=result.submission != submission)


def run_command(request: PaymentCommandRequest, *, actor: Actor | None = None,
                timeout: float = 30.0) -> PaymentCommandResult:
    """Synchronous `submit_command` for views, admin actions and management commands.

    Raises TemporalUnavailable when Temporal cannot be reached, SearchAttributesMissing when its
    namespace lacks the search attributes of our workflows (nothing was run in either case)."""
    client = shared_client()
    return shared_loop().run(submit_command(client, request, actor=actor, timeout=timeout), timeout=timeout + 30)
