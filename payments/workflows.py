"""PaymentEventSourcingWorkflow: one payment command, decided by the pure domain inside the workflow.

Load the stream (activity), decide (domain), append with the loaded version as expected version
(event store activity), which applies the prompt projections in the same transaction; only those it
could not apply there get an activity of their own afterwards. A version conflict means someone else
changed the payment meanwhile: reload and decide again, a bounded number of times. A business
rejection is a result (`success=False`), never a failed workflow.

The activities run as local activities, so a command takes tens of milliseconds, not hundreds.
Their results are not in the workflow history: if a worker dies after the append committed but
before the workflow task completed, the task runs again elsewhere and loads a stream that already
holds this command's events. Every event carries the command's id (`causation_id`, from the
idempotency key or workflow.uuid4(), both identical on a re-run), so the workflow recognizes its own
events and answers with them instead of deciding again.
"""

import asyncio
from dataclasses import replace
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from eventstore.temporal.activity_signatures import append_events, apply_prompt_projections
    from eventstore.temporal.errors import cause_of, caused_by, workflow_failure
    from eventstore.temporal.messages import AppendRequest, EventInput, PromptProjectionsRequest, StoredEvent
    from payments.activity_signatures import check_approver, load_payment, query_history
    from payments.approval_rules import DEFAULT_TIMEOUT_SECONDS
    from payments.domain import (
        AGGREGATE_TYPE,
        SCHEMA_VERSION,
        CommandRejected,
        CommandType,
        PaymentAggregate,
        PaymentCommand,
        PaymentIdTaken,
        PaymentNotFound,
        approval_event_type,
        business_time_text,
        parse_occurred_at,
        refusal_of_unreadable,
        require_canonical_payment_id,
        time_ordered_payment_id,
    )
    from payments.messages import (
        PAYMENT_UNREADABLE,
        ApprovalDecision,
        CheckApproverRequest,
        HistoryAnswer,
        HistoryQuery,
        LoadedPayment,
        LoadPaymentRequest,
        PaymentCommandRequest,
        PaymentCommandResult,
        request_fingerprint,
    )

MAX_CONFLICT_ATTEMPTS = 30
APPROVAL_PATCH = "four-eyes-approval"
APPROVAL_CLOSED = "ApprovalClosed"  # the update error when the request was decided or expired already
APPROVAL_TIMER = {"kind": "system", "id": "approval-timer", "name": "approval timer", "channel": "temporal"}
ACTIVITY_OPTIONS = dict(
    start_to_close_timeout=timedelta(seconds=10),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(milliseconds=100), backoff_coefficient=2, maximum_interval=timedelta(seconds=5)
    ),
)


@workflow.defn(name="PaymentEventSourcingWorkflow")
class PaymentEventSourcingWorkflow:
    """A command a policy puts under four-eyes control records `...Requested`, answers its caller
    (update `answer`) and waits for update `decide` or its timer; see `_await_decision`."""

    def __init__(self) -> None:
        self.answered = False  # the caller may have the result: the command finished or awaits approval
        self.finished = False
        self.approval: dict | None = None  # approval_id, state, requester, ... while under four-eyes control
        self.decision: tuple[ApprovalDecision, dict] | None = None  # with the checked approver
        self.deciding = asyncio.Lock()

    @workflow.update(name="answer")
    async def answer(self) -> PaymentCommandResult:
        """The result once known, or as soon as the command awaits approval (then approval_state pending)."""
        await workflow.wait_condition(lambda: self.answered)
        return self.result

    @workflow.update(name="decide")
    async def decide(self, decision: ApprovalDecision) -> PaymentCommandResult:
        """Approve or reject; the approver is checked against Django by an activity (not the
        requester, holds the approver permission, member of the organization). One decision wins:
        a second one, even one sent at the same moment, is told what happened."""
        async with self.deciding:
            self._require_open()
            checked = await workflow.execute_local_activity(
                check_approver,
                CheckApproverRequest(decision.approver_seal, self.approval["organization_id"],
                                     self.approval["requester"]),
                **ACTIVITY_OPTIONS,
            )
            self._require_open()
            self.decision = (decision, checked.approver)
        await workflow.wait_condition(lambda: self.finished)
        return self.result

    @decide.validator
    def _validate_decision(self, decision: ApprovalDecision) -> None:
        if decision.decision not in ("approve", "reject"):
            raise ValueError(f"Unknown decision {decision.decision!r}; use approve or reject.")
        if decision.decision == "reject" and not decision.reason.strip():
            raise ValueError("A reason is required to reject.")
        self._require_open()

    def _require_open(self) -> None:
        if self.approval is None:
            raise ApplicationError("This command is not awaiting approval.", type=APPROVAL_CLOSED)
        if self.decision is not None or self.approval["state"] != "pending":
            state = "decided" if self.decision is not None else self.approval["state"]
            raise ApplicationError(f"Approval {self.approval['approval_id']} is already {state}.",
                                   type=APPROVAL_CLOSED)

    @workflow.run
    async def run(self, request: PaymentCommandRequest) -> PaymentCommandResult:
        result = await self._run(request)
        self.finished = self.answered = True
        if not workflow.all_handlers_finished():
            await workflow.wait_condition(workflow.all_handlers_finished)
        return result

    async def _run(self, request: PaymentCommandRequest) -> PaymentCommandResult:
        info = workflow.info()
        self.result = PaymentCommandResult(
            success=False, message="", payment_id=request.payment_id, version=0, workflow_id=info.workflow_id,
            correlation_id=request.correlation_id or str(workflow.uuid4()),
            request_fingerprint=request_fingerprint(request),
            submission=str(workflow.memo_value("submission", "")),
        )
        known = {each.value for each in CommandType}
        self.command_type = str(request.type).upper() if str(request.type).upper() in known else "UNKNOWN"
        command_id = request.idempotency_key or str(workflow.uuid4())
        self.occurred_at_given = bool(request.occurred_at)
        self.actor_seal = request.actor_seal
        self.approval_timeout = request.approval_timeout_seconds or DEFAULT_TIMEOUT_SECONDS
        try:
            command = _to_command(request)
        except CommandRejected as rejection:
            return self._refuse(rejection)
        self.result.payment_id = command.payment_id
        return await self._attempts(command, command_id)

    async def _attempts(self, command: PaymentCommand, command_id: str) -> PaymentCommandResult:
        for _ in range(MAX_CONFLICT_ATTEMPTS):
            outcome = await self._attempt(command, command_id)
            if outcome is not None:
                return outcome
        return self._finish(
            False,
            f"Payment {command.payment_id} kept changing while this command was decided "
            f"({MAX_CONFLICT_ATTEMPTS} attempts); nothing was written. Please try again.",
        )

    async def _attempt(self, command: PaymentCommand, command_id: str) -> PaymentCommandResult | None:
        """Decide and append once; None when another writer got there first."""
        try:
            loaded = await workflow.execute_local_activity(
                load_payment, self._load_request(command, command_id), **ACTIVITY_OPTIONS)
        except (ActivityError, ApplicationError) as error:
            unreadable = cause_of(error, PAYMENT_UNREADABLE)
            if unreadable is None:
                raise
            owner = unreadable.details[0] if unreadable.details else ""
            return self._refuse(refusal_of_unreadable(command, str(owner)))
        if loaded.applied:
            return self._already_applied(command, loaded)
        aggregate = PaymentAggregate.from_snapshot(loaded.state)
        self.result.version = aggregate.version
        try:
            new_events = aggregate.execute(
                command, latest_occurred_at=_latest_occurred_at(loaded) if self.occurred_at_given else None)
        except CommandRejected as rejection:
            self.result.status = str(aggregate.status or "")
            if self.approval is not None:
                return await self._refused_when_approved(command, command_id, rejection)
            return self._refuse(rejection)
        if loaded.approval_rule and self.approval is None and workflow.patched(APPROVAL_PATCH):
            return await self._under_approval(command, command_id, loaded, aggregate)
        projections_with_append = loaded.projections_with_append
        try:
            appended = await workflow.execute_local_activity(
                append_events,
                AppendRequest(
                    stream_id=command.payment_id,
                    aggregate_type=AGGREGATE_TYPE,
                    events=[EventInput(e.event_type, self._approved(e.data), self._metadata(command, command_id),
                                       str(workflow.uuid4()))
                            for e in new_events],
                    expected_version=str(aggregate.version),
                    apply_prompt_projections=projections_with_append,
                    actor_seals=self._actor_seals(),
                ),
                **ACTIVITY_OPTIONS,
            )
        except (ActivityError, ApplicationError) as error:
            if caused_by(error, "WrongExpectedVersion"):
                return None
            raise
        if appended.prompt_projections_pending or not projections_with_append:
            newest = appended.events[-1]
            await workflow.execute_local_activity(
                apply_prompt_projections,
                PromptProjectionsRequest(appended.stream_id, newest.transaction_id, newest.position),
                **ACTIVITY_OPTIONS,
            )
        self.result.version = appended.version
        self.result.event_ids = [event.event_id for event in appended.events]
        self.result.status = str(aggregate.status)
        if self.approval is not None:
            self.approval["state"] = self.result.approval_state = "approved"
        return self._finish(True, _success_message(command, aggregate, new_events[0].data))

    def _already_applied(self, command: PaymentCommand, loaded: LoadedPayment) -> PaymentCommandResult:
        """The command's events were appended by an earlier run of this task: report them."""
        aggregate = PaymentAggregate.from_snapshot(loaded.state_after_applied)
        self.result.version = aggregate.version
        self.result.event_ids = [event.event_id for event in loaded.applied]
        self.result.status = str(aggregate.status)
        if self.approval is not None:
            self.approval["state"] = self.result.approval_state = "approved"
        return self._finish(True, _success_message(command, aggregate, loaded.applied[0].data))

    def _metadata(self, command: PaymentCommand, command_id: str) -> dict:
        info = workflow.info()
        return {
            "correlation_id": self.result.correlation_id,
            "causation_id": command_id,
            "command": str(command.type),
            "user_id": command.user_id,
            "organization_id": command.organization_id,
            "workflow_id": info.workflow_id,
            "run_id": info.run_id,
            "schema_version": SCHEMA_VERSION,
            **self._actors(),
        }

    def _load_request(self, command: PaymentCommand, command_id: str) -> LoadPaymentRequest:
        if command.type == CommandType.CREATE or self.approval is not None:
            return LoadPaymentRequest(command.payment_id, command_id)
        return LoadPaymentRequest(command.payment_id, command_id, command_type=str(command.type),
                                  organization_id=command.organization_id, amount=command.amount,
                                  currency=command.currency, actor_seal=self.actor_seal)

    def _actors(self) -> dict:
        """Who acted, as the activities verified them: the requester and, once approved, the approver.
        (The append activity stamps the same from the seals; a plain client's claims are replaced.)"""
        if self.approval is None:
            return {}
        actors = {"actor": self.approval["requester"]} if self.approval["requester"] else {}
        if self.decision is not None and self.decision[0].decision == "approve":
            actors["approved_by"] = self.decision[1]
        return actors

    def _actor_seals(self) -> dict[str, str]:
        """The submitter's sealed actor and, once approved, the approver's, for the append to verify and
        record. Histories recorded before actors were sealed replay without them (their append's input
        held no seals)."""
        seals = {"actor": self.actor_seal} if self.actor_seal else {}
        if self.decision is not None and self.decision[0].decision == "approve":
            seals["approved_by"] = self.decision[0].approver_seal
        return seals if seals and workflow.patched("actor-seals") else {}

    def _approved(self, data: dict) -> dict:
        return {**data, "approval_id": self.approval["approval_id"]} if self.approval is not None else data

    async def _under_approval(self, command: PaymentCommand, command_id: str, loaded: LoadedPayment,
                              aggregate: PaymentAggregate) -> PaymentCommandResult | None:
        """The rules accept the command and the policy covers it: record the request (None on a
        conflict, to decide again), answer the caller, wait for the decision, then act on it."""
        request_id = f"{command_id}:approval"
        applied = await workflow.execute_local_activity(
            load_payment, LoadPaymentRequest(command.payment_id, request_id), **ACTIVITY_OPTIONS)
        if applied.applied:  # an earlier run of this task recorded the request
            requested = applied.applied[0]
            data = requested.data
        else:
            data = self._request_data(command, loaded, aggregate)
            try:
                requested = await self._append_approval_event(
                    command, request_id, approval_event_type(command.type, "Requested"), data,
                    expected_version=str(aggregate.version), requester=loaded.requester, seal=self.actor_seal)
            except (ActivityError, ApplicationError) as error:
                if caused_by(error, "WrongExpectedVersion"):
                    return None
                raise
        self.approval = {"approval_id": data["approval_id"], "state": "pending", "request_id": request_id,
                         "organization_id": command.organization_id, "requester": loaded.requester,
                         "expires_at": data["expires_at"]}
        self.result.approval_id, self.result.approval_state = data["approval_id"], "pending"
        # the payment as the request left it: its status unchanged, its version the request's event
        self.result.status = str(loaded.state.get("status") or "")
        self.result.version, self.result.event_ids = requested.version, [requested.event_id]
        self.result.success = True
        self.result.message = (f"The {str(command.type).lower()} of {data['amount']} {data['currency']} on payment "
                               f"{command.payment_id} awaits approval by a second person ({data['rule']}); "
                               f"approval {data['approval_id']}, until {data['expires_at']}.")
        self.answered = True
        return await self._await_decision(command, command_id)

    def _request_data(self, command: PaymentCommand, loaded: LoadedPayment, aggregate: PaymentAggregate) -> dict:
        event = aggregate.uncommitted_events[-1].data
        expires_at = workflow.now() + timedelta(seconds=self.approval_timeout)
        requester = loaded.requester
        return {
            "payment_id": command.payment_id, "approval_id": str(workflow.uuid4()), "user_id": command.user_id,
            "amount": event["amount"], "currency": event["currency"], "description": command.description,
            "occurred_at": business_time_text(workflow.now()), "rule": loaded.approval_rule,
            "expires_at": business_time_text(expires_at),
            "requested_by": {"id": requester.get("id", ""), "name": requester.get("name", "")},
        }

    async def _await_decision(self, command: PaymentCommand, command_id: str) -> PaymentCommandResult:
        try:
            await workflow.wait_condition(lambda: self.decision is not None, timeout=self.approval_timeout)
        except asyncio.TimeoutError:
            self.approval["state"] = "expired"  # a decision being checked right now is refused
        if self.decision is None:
            await self._approval_outcome(command, "Expired", {"expired_at": self.approval["expires_at"]})
            return self._closed("expired", f"Approval {self.approval['approval_id']} expired at "
                                           f"{self.approval['expires_at']} without a decision; nothing was "
                                           f"{_done(command)}.")
        decision, approver = self.decision
        if decision.decision == "reject":
            self.approval["state"] = "rejected"
            await self._approval_outcome(command, "Rejected", {
                "reason": decision.reason, "rejected_by": {"id": approver.get("id", ""),
                                                           "name": approver.get("name", "")}},
                actor=approver, seal=decision.approver_seal)
            return self._closed("rejected", f"Rejected by {approver.get('name') or approver.get('id')}: "
                                            f"{decision.reason}")
        if not self.occurred_at_given:  # the refund or cancel happens when approved
            command = replace(command, occurred_at=workflow.now())
        return await self._attempts(command, command_id)

    async def _refused_when_approved(self, command: PaymentCommand, command_id: str,
                                     rejection: CommandRejected) -> PaymentCommandResult:
        """Approved, but the payment changed meanwhile and the rules refuse the command now."""
        self.approval["state"] = "refused"
        decision, approver = self.decision
        await self._approval_outcome(command, "Rejected", {
            "reason": f"Approved, then refused by the payment rules: {rejection}", "refused_by_rules": True,
            "approved_by": {"id": approver.get("id", ""), "name": approver.get("name", "")}},
            actor=self.approval["requester"], seal=self.actor_seal)
        self.result.code = rejection.code
        return self._closed("refused", f"Approved, but refused when run: {rejection}")

    def _closed(self, state: str, message: str) -> PaymentCommandResult:
        self.approval["state"] = self.result.approval_state = state
        return self._finish(False, message)

    async def _approval_outcome(self, command: PaymentCommand, step: str, fields: dict, *, actor: dict | None = None,
                                seal: str = "") -> None:
        data = {"payment_id": command.payment_id, "approval_id": self.approval["approval_id"],
                "occurred_at": self.approval["expires_at"] if step == "Expired" else business_time_text(workflow.now()),
                **fields}
        await self._append_approval_event(command, self.approval["request_id"], approval_event_type(command.type, step),
                                          data, expected_version="any", requester=actor, seal=seal)

    async def _append_approval_event(self, command: PaymentCommand, causation_id: str, event_type, data: dict, *,
                                     expected_version: str, requester: dict | None, seal: str = "") -> StoredEvent:
        metadata = {**self._metadata(command, causation_id), "actor": requester or APPROVAL_TIMER}
        metadata.pop("approved_by", None)
        appended = await workflow.execute_local_activity(
            append_events,
            AppendRequest(stream_id=command.payment_id, aggregate_type=AGGREGATE_TYPE,
                          events=[EventInput(str(event_type), data, metadata, str(workflow.uuid4()))],
                          expected_version=expected_version, apply_prompt_projections=True,
                          actor_seals={"actor": seal} if seal else {}),
            **ACTIVITY_OPTIONS,
        )
        if appended.prompt_projections_pending:
            newest = appended.events[-1]
            await workflow.execute_local_activity(
                apply_prompt_projections,
                PromptProjectionsRequest(appended.stream_id, newest.transaction_id, newest.position),
                **ACTIVITY_OPTIONS,
            )
        return appended.events[0]

    def _refuse(self, rejection: CommandRejected) -> PaymentCommandResult:
        """A refusal; one about a payment the caller may not see (or an id taken, whoever holds it)
        reports nothing of that payment: no version, no status."""
        if isinstance(rejection, (PaymentNotFound, PaymentIdTaken)):
            self.result.version, self.result.status = 0, ""
        self.result.code = rejection.code
        return self._finish(False, str(rejection))

    def _finish(self, success: bool, message: str) -> PaymentCommandResult:
        self.result.success = success
        self.result.message = message
        workflow.metric_meter().create_counter("payments_commands", "Commands answered, by type and outcome.").add(
            1, {"command_type": self.command_type, "outcome": "accepted" if success else "refused"})
        workflow.logger.info(
            "%s %s %s: %s", "ACCEPTED" if success else "REJECTED", self.result.payment_id,
            f"v{self.result.version}", message,
            extra={"correlation_id": self.result.correlation_id, "payment_id": self.result.payment_id},
        )
        return self.result


def _to_command(request: PaymentCommandRequest) -> PaymentCommand:
    try:
        command_type = CommandType(str(request.type).upper())
    except ValueError:
        raise CommandRejected(f"Unknown command {request.type!r}; use CREATE, REFUND or CANCEL.") from None
    payment_id = request.payment_id
    if command_type == CommandType.CREATE and not payment_id:
        payment_id = time_ordered_payment_id(int(workflow.now().timestamp() * 1000), workflow.random().getrandbits(74))
    return PaymentCommand(
        type=command_type,
        payment_id=require_canonical_payment_id(payment_id),
        organization_id=request.organization_id,
        user_id=request.user_id,
        amount=request.amount,
        currency=request.currency,
        description=request.description or "",
        occurred_at=parse_occurred_at(request.occurred_at) if request.occurred_at else workflow.now(),
    )


def _done(command: PaymentCommand) -> str:
    return "refunded" if command.type == CommandType.REFUND else "cancelled"


def _latest_occurred_at(loaded: LoadedPayment):
    """The server's clock plus tolerance, read by the load activity: replay reads the same value from
    the history, where a clock read here would not be deterministic. Only a business time the caller
    gave is held against it; the default, workflow.now(), is Temporal's clock, which may differ."""
    return parse_occurred_at(loaded.latest_occurred_at) if loaded.latest_occurred_at else None


def _success_message(command: PaymentCommand, payment: PaymentAggregate, event_data: dict) -> str:
    currency = payment.currency
    if command.type == CommandType.CREATE:
        return f"Payment {payment.payment_id} processed: {payment.amount} {currency}."
    if command.type == CommandType.REFUND:
        return (f"Refunded {event_data['amount']} {currency} on payment {payment.payment_id}; "
                f"{payment.refunded} of {payment.amount} {currency} refunded so far.")
    return f"Payment {payment.payment_id} cancelled."


QUERY_ACTIVITY_OPTIONS = dict(
    start_to_close_timeout=timedelta(seconds=60),
    retry_policy=RetryPolicy(maximum_attempts=5, non_retryable_error_types=["InvalidQuery"]),
)


@workflow.defn(name="PaymentHistoryQueryWorkflow")
class PaymentHistoryQueryWorkflow:
    """A payment's history, an event search or a correlation timeline, for any Temporal client.

    Failures (bad input, unreachable database after retries) fail the workflow with the cause's
    message; they are never turned into an empty list.
    """

    @workflow.run
    async def run(self, query: HistoryQuery) -> HistoryAnswer:
        try:
            return await workflow.execute_activity(query_history, query, **QUERY_ACTIVITY_OPTIONS)
        except ActivityError as error:
            raise workflow_failure(error) from error


WORKFLOWS = [PaymentEventSourcingWorkflow, PaymentHistoryQueryWorkflow]
