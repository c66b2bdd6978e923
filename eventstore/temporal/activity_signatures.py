"""The event store's activities as workflows call them: each one's name and types, no body. Pure
Python, no Django.

Workflows may not import Django, so not `eventstore/temporal/activities.py` either: they pass these
functions to `workflow.execute_activity` (the SDK reads the name and the result type from them), and
"go to definition" lands here, where the docstring names the implementation. Each implementation
declares the function it implements (`eventstore.temporal.worker.implements`), which registers it
under that name and refuses to import if its types differ. These bodies never run.
"""

from temporalio import activity

from eventstore.temporal.messages import (
    AppendOutcome,
    AppendRequest,
    CatchUpOutcome,
    CatchUpRequest,
    DeliveryOutcome,
    DeliveryRequest,
    EventPage,
    EventsByTypeRequest,
    PromptProjectionsOutcome,
    PromptProjectionsRequest,
    ReadStreamRequest,
    RebuildOutcome,
    RebuildRequest,
    ScheduledRunRequest,
    TreeHeadOutcome,
    VerificationOutcome,
    VerificationRequest,
)


@activity.defn(name="eventstore.append_events")
def append_events(request: AppendRequest) -> AppendOutcome:
    """Implemented by `eventstore.temporal.activities.append_events_activity`."""
    raise NotImplementedError


@activity.defn(name="eventstore.get_events")
def get_events(request: ReadStreamRequest) -> EventPage:
    """Implemented by `eventstore.temporal.activities.get_events_activity`."""
    raise NotImplementedError


@activity.defn(name="eventstore.get_events_by_type")
def get_events_by_type(request: EventsByTypeRequest) -> EventPage:
    """Implemented by `eventstore.temporal.activities.get_events_by_type_activity`."""
    raise NotImplementedError


@activity.defn(name="eventstore.apply_prompt_projections")
def apply_prompt_projections(request: PromptProjectionsRequest) -> PromptProjectionsOutcome:
    """Implemented by `eventstore.temporal.activities.apply_prompt_projections_activity`."""
    raise NotImplementedError


@activity.defn(name="eventstore.catch_up_projections")
def catch_up_projections(request: CatchUpRequest) -> CatchUpOutcome:
    """Implemented by `eventstore.temporal.activities.catch_up_projections_activity`."""
    raise NotImplementedError


@activity.defn(name="eventstore.rebuild_projection")
def rebuild_projection(request: RebuildRequest) -> RebuildOutcome:
    """Implemented by `eventstore.temporal.activities.rebuild_projection_activity`."""
    raise NotImplementedError


@activity.defn(name="eventstore.sign_tree_head")
def sign_tree_head(request: ScheduledRunRequest) -> TreeHeadOutcome:
    """Implemented by `eventstore.temporal.activities.sign_tree_head_activity`."""
    raise NotImplementedError


@activity.defn(name="eventstore.verify_chain")
def verify_chain(request: VerificationRequest) -> VerificationOutcome:
    """Implemented by `eventstore.temporal.activities.verify_chain_activity`."""
    raise NotImplementedError


@activity.defn(name="eventstore.deliver_webhooks")
def deliver_webhooks(request: DeliveryRequest) -> DeliveryOutcome:
    """Implemented by `eventstore.temporal.activities.deliver_webhooks_activity`."""
    raise NotImplementedError
