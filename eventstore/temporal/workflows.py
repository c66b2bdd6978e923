"""EventStoreWorkflow: the store's operations for any Temporal client, no Django needed.

Workflow code is deterministic and imports no Django: activities are called through their
signatures (`eventstore.temporal.activity_signatures`), and event ids missing from an append are drawn
from workflow.uuid4(), so a retried append is a no-op.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from eventstore.temporal.activity_signatures import (
        append_events,
        catch_up_projections,
        deliver_webhooks,
        get_events,
        get_events_by_type,
        rebuild_projection,
        sign_tree_head,
        verify_chain,
    )
    from eventstore.temporal.errors import workflow_failure
    from eventstore.temporal.messages import (
        CatchUpRequest,
        DeliveryRequest,
        EventStoreRequest,
        EventStoreResponse,
        RebuildOutcome,
        RebuildRequest,
        ScheduledRunRequest,
        TreeHeadOutcome,
        VerificationOutcome,
        VerificationRequest,
    )

STORE_ACTIVITY_OPTIONS = dict(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=10),
)


@workflow.defn(name="EventStoreWorkflow")
class EventStoreWorkflow:
    @workflow.run
    async def run(self, request: EventStoreRequest) -> EventStoreResponse:
        try:
            return await self._dispatch(request)
        except ActivityError as error:
            raise workflow_failure(error) from error

    async def _dispatch(self, request: EventStoreRequest) -> EventStoreResponse:
        if request.operation == "append" and request.append is not None:
            for event in request.append.events:
                event.event_id = event.event_id or str(workflow.uuid4())
            appended = await workflow.execute_activity(append_events, request.append, **STORE_ACTIVITY_OPTIONS)
            return EventStoreResponse(operation=request.operation, appended=appended)
        if request.operation == "get_events" and request.get_events is not None:
            page = await workflow.execute_activity(get_events, request.get_events, **STORE_ACTIVITY_OPTIONS)
            return EventStoreResponse(operation=request.operation, page=page)
        if request.operation == "get_events_by_type" and request.get_events_by_type is not None:
            page = await workflow.execute_activity(get_events_by_type, request.get_events_by_type,
                                                   **STORE_ACTIVITY_OPTIONS)
            return EventStoreResponse(operation=request.operation, page=page)
        raise ApplicationError(
            f"Unknown or incomplete operation {request.operation!r}: use append, get_events or "
            "get_events_by_type with its request.",
            type="InvalidRequest",
            non_retryable=True,
        )


CATCH_UP_WORKFLOW_ID = "projection-catch-up"
CATCH_UP_ROUNDS_PER_RUN = 100


@workflow.defn(name="ProjectionCatchUpWorkflow")
class ProjectionCatchUpWorkflow:
    """The catch-up loop: forever, an activity that keeps the projections current for a while.

    One instance (id "projection-catch-up") runs per namespace; `temporal_worker` starts it. If a
    worker dies, the heartbeat timeout hands the activity to another worker within seconds.
    History stays small: the workflow continues as new every CATCH_UP_ROUNDS_PER_RUN rounds.
    """

    @workflow.run
    async def run(self, request: CatchUpRequest) -> None:
        for _ in range(CATCH_UP_ROUNDS_PER_RUN):
            await workflow.execute_activity(
                catch_up_projections, request,
                start_to_close_timeout=timedelta(seconds=request.seconds + 60),
                heartbeat_timeout=timedelta(seconds=10),
                retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)),
            )
        workflow.continue_as_new(request)


@workflow.defn(name="ProjectionReplayWorkflow")
class ProjectionReplayWorkflow:
    """Rebuild projections from history, one after another, each swapped in when it has caught up."""

    @workflow.run
    async def run(self, requests: list[RebuildRequest]) -> list[RebuildOutcome]:
        outcomes = []
        for request in requests:
            outcomes.append(await workflow.execute_activity(
                rebuild_projection, request,
                start_to_close_timeout=timedelta(hours=6), heartbeat_timeout=timedelta(seconds=60),
                retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30),
                                         non_retryable_error_types=["UnknownProjection"]),
            ))
        return outcomes


@workflow.defn(name="SignTreeHeadWorkflow")
class SignTreeHeadWorkflow:
    """Sign a head of the ledger when events are new (started by the "sign-tree-head" schedule); fails
    with the activity's own error, e.g. RollbackDetected, when it refuses."""

    @workflow.run
    async def run(self, request: ScheduledRunRequest) -> TreeHeadOutcome:
        try:
            return await workflow.execute_activity(
                sign_tree_head, request, start_to_close_timeout=timedelta(minutes=10),
                retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3),
            )
        except ActivityError as error:
            raise workflow_failure(error) from error


@workflow.defn(name="VerifyChainWorkflow")
class VerifyChainWorkflow:
    """Run verify_event_chain and record its result: what is new since the last verified point (the
    "verify-event-chain" schedule), or every event (`full`, the "verify-event-chain-full" schedule)."""

    @workflow.run
    async def run(self, request: VerificationRequest) -> VerificationOutcome:
        return await workflow.execute_activity(
            verify_chain, request, start_to_close_timeout=timedelta(hours=2),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=5), maximum_attempts=3),
        )


DELIVERY_ROUNDS_PER_RUN = 100


def delivery_workflow_id(endpoint_id: int) -> str:
    return f"webhook-delivery-{endpoint_id}"


@workflow.defn(name="WebhookDeliveryWorkflow")
class WebhookDeliveryWorkflow:
    """One webhook endpoint's deliveries, for as long as the endpoint exists: an activity that posts
    its events in order for a while, again and again, continuing as new every
    DELIVERY_ROUNDS_PER_RUN rounds. A failed POST fails the activity, which Temporal retries with
    exponential backoff; each endpoint has its own workflow, so one that is down or slow holds up
    nobody else."""

    @workflow.run
    async def run(self, request: DeliveryRequest) -> None:
        for _ in range(DELIVERY_ROUNDS_PER_RUN):
            outcome = await workflow.execute_activity(
                deliver_webhooks, request,
                start_to_close_timeout=timedelta(seconds=request.seconds + request.http_timeout * request.batch_size + 60),
                heartbeat_timeout=timedelta(seconds=request.http_timeout + 10),
                retry_policy=RetryPolicy(initial_interval=timedelta(seconds=request.retry_initial), backoff_coefficient=2.0,
                                         maximum_interval=timedelta(seconds=max(request.retry_max, request.retry_initial)),
                                         non_retryable_error_types=["RefusedEndpoint"]),
            )
            if outcome.gone:
                return
        workflow.continue_as_new(request)


WORKFLOWS = [EventStoreWorkflow, ProjectionCatchUpWorkflow, ProjectionReplayWorkflow, SignTreeHeadWorkflow,
             VerifyChainWorkflow, WebhookDeliveryWorkflow]
