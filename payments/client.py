"""Submitting payment commands from Django code: start (or attach to) the command's workflow and wait.

The caller names the actor it authenticated (`eventstore.web.actors.actor_of_request`, a management
command's...): it travels sealed for the command's workflow id, and the command's events record it.
A request submitted without one records the Temporal client that started the workflow.

The workflow id derives from the organization and the idempotency key, and the workflow is
started with USE_EXISTING (a repeat while it runs attaches to it) and REJECT_DUPLICATE (a repeat
after it finished reads its result): a command never runs twice for one key, within the Temporal
namespace's retention period.
"""

import asyncio
import uuid
from dataclasses import replace

from django.conf import settings
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from eventstore.actors import Actor
from eventstore.temporal.actor_seals import seal_actor
from eventstore.temporal.connection import shared_client, shared_loop
from eventstore.temporal.search_attributes import explain_refused_start
from payments import approval_policies, search_attributes
from payments.messages import ApprovalDecision, PaymentCommandRequest, PaymentCommandResult, request_fingerprint
from payments.workflows import APPROVAL_CLOSED, PaymentEventSourcingWorkflow

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
    client: Client, request: PaymentCommandRequest, *, actor: Actor | None = None, answer_early: bool = False,
    task_queue: str | None = None, timeout: float = 30.0,
) -> PaymentCommandResult:
    """Run `request` through PaymentEventSourcingWorkflow and return its result. With `answer_early`
    (the organization has an approval policy for this command type), a command that has to wait for a
    second person answers at once with its pending approval instead of its result."""
    request = _with_key(request)
    submission = uuid.uuid4().hex
    options = start_options(request, submission)
    request = replace(request, approval_timeout_seconds=request.approval_timeout_seconds or settings.APPROVAL_TIMEOUT)
    if actor is not None:
        request = replace(request, actor_seal=seal_actor(actor, workflow_id=options["id"]))
    waiting = _answer(client, request, options, task_queue) if answer_early else _result(client, request, options,
                                                                                          task_queue)
    try:
        result = await asyncio.wait_for(waiting, timeout)
    except (asyncio.TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise CommandNotFinished(options["id"], timeout) from None
    if result.request_fingerprint != request_fingerprint(request):
        raise IdempotencyKeyReused(
            f"The idempotency key {request.idempotency_key!r} was already used for a different request."
        )
    return replace(result, replayed=result.submission != submission)


async def _result(client: Client, request: PaymentCommandRequest, options: dict,
                  task_queue: str | None) -> PaymentCommandResult:
    """Start the command (or attach to it) and wait for its result."""
    try:
        handle = await client.start_workflow(
            PaymentEventSourcingWorkflow.run, request, task_queue=task_queue or settings.TEMPORAL_TASK_QUEUE, **options)
    except WorkflowAlreadyStartedError:
        handle = client.get_workflow_handle_for(PaymentEventSourcingWorkflow.run, options["id"])
    except RPCError as error:  # SearchAttributesMissing when the namespace is not set up for our workflows
        raise await explain_refused_start(client, error) from None
    return await handle.result()


async def _answer(client: Client, request: PaymentCommandRequest, options: dict,
                  task_queue: str | None) -> PaymentCommandResult:
    """Start the command (or attach to it) and wait for its answer: its result, or, when a second
    person has to approve it, the pending approval (update-with-start: one call, no wait for the decision)."""
    start = WithStartWorkflowOperation(
        PaymentEventSourcingWorkflow.run, request, task_queue=task_queue or settings.TEMPORAL_TASK_QUEUE, **options)
    try:
        try:
            return await client.execute_update_with_start_workflow(
                PaymentEventSourcingWorkflow.answer, start_workflow_operation=start)
        except BaseException:
            _read_start_outcome(start)
            raise
    except WorkflowAlreadyStartedError:  # it finished earlier under this key: read its result
        pass
    except WorkflowUpdateFailedError:  # it finished while the update was on its way
        pass
    except RPCError as error:  # SearchAttributesMissing when the namespace is not set up for our workflows
        if error.status not in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            raise await explain_refused_start(client, error) from None
    return await client.get_workflow_handle_for(PaymentEventSourcingWorkflow.run, options["id"]).result()


def _read_start_outcome(start: WithStartWorkflowOperation) -> None:
    """The start's own outcome, which nobody awaits once the update failed: read, so that asyncio does
    not report it as never retrieved."""
    waiting = asyncio.ensure_future(start.workflow_handle())
    waiting.add_done_callback(lambda task: task.cancelled() or task.exception())


class DecisionRefused(Exception):
    """The approver may not decide (the requester, no approver permission, not a member)."""


class ApprovalClosed(Exception):
    """The approval was decided or expired already."""


class InvalidDecision(ValueError):
    pass


async def submit_decision(client: Client, workflow_id: str, decision: ApprovalDecision, *, actor: Actor,
                          timeout: float = 30.0) -> PaymentCommandResult:
    """Approve or reject the command awaiting approval in `workflow_id`, as `actor` (sealed for it);
    the answer is the command's result once the decision was acted on."""
    decision = replace(decision, approver_seal=seal_actor(actor, workflow_id=workflow_id))
    handle = client.get_workflow_handle_for(PaymentEventSourcingWorkflow.run, workflow_id)
    try:
        return await asyncio.wait_for(handle.execute_update(PaymentEventSourcingWorkflow.decide, decision), timeout)
    except (asyncio.TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise CommandNotFinished(workflow_id, timeout) from None
    except WorkflowUpdateFailedError as error:
        raise _decision_error(error) from None
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:  # the workflow has finished: decided or expired
            raise ApprovalClosed("This approval was already decided or has expired.") from None
        raise


def _decision_error(error: WorkflowUpdateFailedError) -> Exception:
    cause = error.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.cause
    if cause is None:
        return error
    if cause.type == APPROVAL_CLOSED:
        return ApprovalClosed(cause.message)
    if cause.type == "ApproverRefused":
        return DecisionRefused(cause.message)
    return InvalidDecision(cause.message)


def decide(workflow_id: str, decision: ApprovalDecision, *, actor: Actor, timeout: float = 30.0) -> PaymentCommandResult:
    """Synchronous `submit_decision` for views and admin actions."""
    return shared_loop().run(submit_decision(shared_client(), workflow_id, decision, actor=actor, timeout=timeout),
                             timeout=timeout + 30)


def run_command(request: PaymentCommandRequest, *, actor: Actor | None = None,
                timeout: float = 30.0) -> PaymentCommandResult:
    """Synchronous `submit_command` for views, admin actions and management commands. A command the
    organization's approval policy may cover answers as soon as it awaits approval (update-with-start,
    which costs more than a start: commands no policy can cover keep the plain start). Should a rule
    be added while such a command is submitted, it waits for its result like any other, and a repeat
    with the same idempotency key gets the pending approval.

    Raises TemporalUnavailable when Temporal cannot be reached, SearchAttributesMissing when its
    namespace lacks the search attributes of our workflows (nothing was run in either case)."""
    client = shared_client()
    answer_early = approval_policies.may_cover(request.organization_id, str(request.type).upper())
    return shared_loop().run(submit_command(client, request, actor=actor, answer_early=answer_early, timeout=timeout),
                             timeout=timeout + 30)
