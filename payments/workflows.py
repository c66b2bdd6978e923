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

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from eventstore.temporal.activity_signatures import append_events, apply_prompt_projections
    from eventstore.temporal.errors import cause_of, caused_by, workflow_failure
    from eventstore.temporal.messages import AppendRequest, EventInput, PromptProjectionsRequest
    from payments.activity_signatures import load_payment, query_history
    from payments.domain import (
        AGGREGATE_TYPE,
        SCHEMA_VERSION,
        CommandRejected,
        CommandType,
        PaymentAggregate,
        PaymentCommand,
        PaymentIdTaken,
        PaymentNotFound,
        parse_occurred_at,
        refusal_of_unreadable,
        require_canonical_payment_id,
        time_ordered_payment_id,
    )
    from payments.messages import (
        PAYMENT_UNREADABLE,
        HistoryAnswer,
        HistoryQuery,
        LoadedPayment,
        LoadPaymentRequest,
        PaymentCommandRequest,
        PaymentCommandResult,
        request_fingerprint,
    )

MAX_CONFLICT_ATTEMPTS = 30
ACTIVITY_OPTIONS = dict(
    start_to_close_timeout=timedelta(seconds=10),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(milliseconds=100), backoff_coefficient=2, maximum_interval=timedelta(seconds=5)
    ),
)


@workflow.defn(name="PaymentEventSourcingWorkflow")
class PaymentEventSourcingWorkflow:
    @workflow.run
    async def run(self, request: PaymentCommandRequest) -> PaymentCommandResult:
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
        try:
            command = _to_command(request)
        except CommandRejected as rejection:
            return self._refuse(rejection)
        self.result.payment_id = command.payment_id
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
                load_payment, LoadPaymentRequest(command.payment_id, command_id), **ACTIVITY_OPTIONS)
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
            return self._refuse(rejection)
        projections_with_append = loaded.projections_with_append
        try:
            appended = await workflow.execute_local_activity(
                append_events,
                AppendRequest(
                    stream_id=command.payment_id,
                    aggregate_type=AGGREGATE_TYPE,
                    events=[EventInput(e.event_type, e.data, self._metadata(command, command_id), str(workflow.uuid4()))
                            for e in new_events],
                    expected_version=str(aggregate.version),
                    apply_prompt_projections=projections_with_append,
                    actor_seals={"actor": self.actor_seal} if self.actor_seal else {},
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
        return self._finish(True, _success_message(command, aggregate, new_events[0].data))

    def _already_applied(self, command: PaymentCommand, loaded: LoadedPayment) -> PaymentCommandResult:
        """The command's events were appended by an earlier run of this task: report them."""
        aggregate = PaymentAggregate.from_snapshot(loaded.state_after_applied)
        self.result.version = aggregate.version
        self.result.event_ids = [event.event_id for event in loaded.applied]
        self.result.status = str(aggregate.status)
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
        }

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
