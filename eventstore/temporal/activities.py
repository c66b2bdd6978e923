"""The event store's Temporal activities: sync functions over the Django ORM, run in a thread pool.

Store errors become non-retryable application errors carrying their type name, so a conflict or
bad input fails fast with a clear message instead of being retried. Each activity implements a
signature of `eventstore.temporal.activity_signatures`, which is what workflows call.
"""

import logging
import time
from itertools import islice

from django.conf import settings
from temporalio import activity
from temporalio.exceptions import ApplicationError

from eventstore import registry, selectors, wakeups
from eventstore.actors import Actor
from eventstore.delivery import webhooks
from eventstore.delivery.models import WebhookEndpoint
from eventstore.errors import CommandOnlyAggregate, EventStoreError, InvalidEvent
from eventstore.events import Checkpoint, ExpectedVersion, NewEvent
from eventstore.integrity import incremental
from eventstore.integrity import verification as integrity
from eventstore.ledger import service as ledger
from eventstore.projections import catch_up
from eventstore.projections import engine as projections
from eventstore.projections import rebuild as projection_rebuild
from eventstore.store import append_events
from eventstore.temporal import activity_signatures as signatures
from eventstore.temporal.actor_seals import open_actor_seal
from eventstore.temporal.errors import errors_are_final
from eventstore.temporal.inputs import parse_instant
from eventstore.temporal.messages import (
    AppendOutcome,
    AppendRequest,
    CatchUpOutcome,
    CatchUpRequest,
    DeliveryOutcome,
    DeliveryRequest,
    EventInput,
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
    stored_event,
)
from eventstore.temporal.starters import starter_identity
from eventstore.temporal.worker import django_activity, implements

logger = logging.getLogger(__name__)

store_errors_are_final = errors_are_final(EventStoreError)


def parse_expected_version(text: str) -> int | ExpectedVersion:
    try:
        return ExpectedVersion(text)
    except ValueError:
        pass
    try:
        return int(text)
    except ValueError:
        raise InvalidEvent(f"expected_version {text!r} is not any, no_stream, stream_exists or a number.") from None


# The metadata keys of actors: only the append writes them, from seals it verified.
SEALED_ACTOR_KEYS = ("actor", "approved_by")


@implements(signatures.append_events)
@django_activity
@store_errors_are_final
def append_events_activity(request: AppendRequest) -> AppendOutcome:
    """Append, each event stamped with its actors; asked to, apply the prompt projections in the same
    transaction where they allow it. A batch stored by an earlier attempt reports every prompt
    projection pending: which of them that attempt applied is not known here, and applying them again
    is the caller's cheap next step.

    An aggregate type an app declared command-only is refused unless its command workflow calls."""
    info = activity.info()
    _check_command_only(request.aggregate_type, info.workflow_type)
    actors = _verified_actors(request.actor_seals, info)
    pending = []

    def apply_projections(result):
        pending.extend(projections.apply_with_append(list(result.events)))

    result = append_events(
        stream_id=request.stream_id,
        aggregate_type=request.aggregate_type,
        events=[NewEvent(e.event_type, e.data, _stamped(e, actors), e.event_id) for e in request.events],
        expected_version=parse_expected_version(request.expected_version),
        with_append=apply_projections if request.apply_prompt_projections else None,
    )
    if request.apply_prompt_projections and result.already_stored:
        pending = projections.prompt_projection_names()
    return AppendOutcome(
        stream_id=result.stream_id,
        version=result.version,
        events=[stored_event(event) for event in result.events],
        already_stored=result.already_stored,
        prompt_projections_pending=pending,
    )


def _check_command_only(aggregate_type: str, calling_workflow: str | None) -> None:
    """The activity is called by name, so any workflow may call it: only the declared one may write a
    command-only aggregate type. Temporal, not the caller, reports the calling workflow's type."""
    command_workflow = registry.command_workflow(aggregate_type)
    if command_workflow is not None and calling_workflow != command_workflow:
        raise CommandOnlyAggregate(aggregate_type, command_workflow)


def _verified_actors(seals: dict[str, str], info: activity.Info) -> dict[str, dict]:
    """The actors the seals hold, opened against the calling workflow's id; without a valid "actor"
    seal, the Temporal client that started the workflow, by the identity Temporal reports."""
    unknown = set(seals) - set(SEALED_ACTOR_KEYS)
    if unknown:
        raise InvalidEvent(f"actor_seals may hold {' and '.join(SEALED_ACTOR_KEYS)}, not {', '.join(sorted(unknown))}.")
    actors = {}
    for key, seal in seals.items():
        actor = open_actor_seal(seal, workflow_id=info.workflow_id or "")
        if actor is not None:
            actors[key] = actor.to_dict()
    if "actor" not in actors:
        identity = starter_identity(namespace=info.workflow_namespace or "", workflow_id=info.workflow_id or "",
                                    run_id=info.workflow_run_id or "")
        actors["actor"] = Actor(kind="temporal_client", id=identity, channel="temporal").to_dict()
    return actors


def _stamped(event: EventInput, actors: dict[str, dict]) -> dict:
    """The event's metadata with the verified actors in place of whatever it said about them."""
    metadata = {key: value for key, value in event.metadata.items() if key not in SEALED_ACTOR_KEYS}
    return {**metadata, **actors}


def _page(events, limit: int) -> EventPage:
    taken = list(islice(events, limit + 1))
    return EventPage(events=[stored_event(event) for event in taken[:limit]], has_more=len(taken) > limit)


@implements(signatures.get_events)
@django_activity
@store_errors_are_final
def get_events_activity(request: ReadStreamRequest) -> EventPage:
    events = selectors.read_stream(
        request.stream_id, from_version=request.from_version, to_version=request.to_version,
        page_size=request.limit + 1,
    )
    return _page(events, request.limit)


@implements(signatures.get_events_by_type)
@django_activity
@store_errors_are_final
def get_events_by_type_activity(request: EventsByTypeRequest) -> EventPage:
    if request.time not in selectors.TIME_AXES:
        raise InvalidEvent(f"Input field 'time' is {request.time!r}; use business or recorded.")
    events = selectors.events_by_type(
        request.event_type,
        since=parse_instant(request.since, "since", error_type=InvalidEvent.__name__),
        until=parse_instant(request.until, "until", error_type=InvalidEvent.__name__),
        time=request.time,
        after_position=request.after_position,
        page_size=request.limit + 1,
    )
    return _page(events, request.limit)


@implements(signatures.apply_prompt_projections)
@django_activity
def apply_prompt_projections_activity(request: PromptProjectionsRequest) -> PromptProjectionsOutcome:
    """Apply freshly appended events to the projections readers expect right away (the ones
    declared `prompt`), rather than at the catch-up loop's next turn, and say which of them are not
    past the events yet: a projection busy in another runner is skipped, and that runner or the
    catch-up loop applies them."""
    appended = Checkpoint(request.transaction_id, request.position)
    outcomes = projections.apply_all_pending(max_batches=5, prompt_only=True)
    behind = sorted(name for name, outcome in outcomes.items() if not outcome.has_applied(appended))
    if behind:
        logger.debug("Events of %s up to position %s wait for %s", request.stream_id, request.position, behind)
    return PromptProjectionsOutcome(applied=sum(outcome.applied for outcome in outcomes.values()), behind=behind)


@implements(signatures.catch_up_projections)
@django_activity
def catch_up_projections_activity(request: CatchUpRequest) -> CatchUpOutcome:
    """Keep every projection current for a while, each on its own thread, and extend the ledger
    beside them, heartbeating; events whose prompt application failed, or that were appended while
    projections were down, are applied here without anyone acting."""
    progress = catch_up.follow_all(
        seconds=request.seconds, idle_pause=request.idle_pause,
        keep_going=lambda: not activity.is_cancelled() and not activity.is_worker_shutdown(),
        on_progress=lambda progress: activity.heartbeat(progress.total),
    )
    return CatchUpOutcome(applied=progress.total, failing=sorted(progress.failing))


@implements(signatures.rebuild_projection)
@django_activity
@store_errors_are_final
def rebuild_projection_activity(request: RebuildRequest) -> RebuildOutcome:
    """Rebuild one projection, heartbeating its progress. After a worker crash the retry resumes
    from the rebuild's own checkpoint, which the last heartbeat reported."""
    projection = projections.registered().get(request.projection)
    if projection is None:
        raise ApplicationError(f"Unknown projection {request.projection!r}.", type="UnknownProjection",
                               non_retryable=True)
    restart = request.restart and activity.info().attempt == 1
    progress = projection_rebuild.rebuild(
        projection, batch_size=request.batch_size, restart=restart,
        on_progress=lambda p: activity.heartbeat({"applied": p.applied, "total": p.total}),
    )
    return RebuildOutcome(projection=progress.name, applied=progress.applied, swapped=progress.swapped)


@implements(signatures.sign_tree_head)
@django_activity
@errors_are_final(ledger.RollbackDetected)
def sign_tree_head_activity(request: ScheduledRunRequest) -> TreeHeadOutcome:
    """Sign a head of the ledger when events are new since the newest one; a ledger that does not
    extend the last published head fails the run at once (RollbackDetected), retried by nobody."""
    head = ledger.sign_tree_head()
    return TreeHeadOutcome(tree_size=None if head is None else head.tree_size)


@implements(signatures.verify_chain)
@django_activity
def verify_chain_activity(request: VerificationRequest) -> VerificationOutcome:
    """verify_event_chain against the published heads, recording its result (and for a full pass, a seal
    when all is intact) as the command does: a full pass, or what is new since the last verified point."""
    if request.full:
        report = integrity.verify_event_chain(on_progress=lambda checked: activity.heartbeat(), against_published=True)
    else:
        report = incremental.verify_new_events(on_progress=lambda checked: activity.heartbeat(),
                                               against_published=True)
    return VerificationOutcome(ok=report.ok, events_checked=report.events_checked, problem_count=report.problem_count)


class Heartbeat:
    """Heartbeats at most every `every` seconds: a call per POST would cost more than the POST."""

    def __init__(self, every: float = 1.0):
        self.every, self.last = every, 0.0

    def beat(self, details) -> None:
        if time.monotonic() - self.last >= self.every:
            activity.heartbeat(details)
            self.last = time.monotonic()


@implements(signatures.deliver_webhooks)
@django_activity
def deliver_webhooks_activity(request: DeliveryRequest) -> DeliveryOutcome:
    """Deliver one endpoint's events for about `request.seconds`, woken by commits when idle and
    heartbeating after every attempt. A failed attempt fails the activity (retried by Temporal with
    backoff, from the same event); a removed endpoint ends it for good."""
    deadline = time.monotonic() + request.seconds
    delivered, heartbeat = 0, Heartbeat()
    with webhooks.http_client(request.http_timeout) as client:
        while time.monotonic() < deadline and not activity.is_cancelled() and not activity.is_worker_shutdown():
            seen = wakeups.notifications_seen()
            endpoint = WebhookEndpoint.objects.filter(pk=request.endpoint_id).first()
            if endpoint is None:
                return DeliveryOutcome(delivered=delivered, gone=True)
            try:
                batch = webhooks.deliver_pending(endpoint, client, limit=request.batch_size,
                                                 on_attempt=lambda attempt: heartbeat.beat(delivered))
            except webhooks.DeliveryFailed as error:
                raise ApplicationError(str(error), type="DeliveryFailed") from None
            except webhooks.RefusedEndpoint as error:
                raise ApplicationError(str(error), type="RefusedEndpoint") from None
            delivered += batch.count
            activity.heartbeat(delivered)
            if not batch.more:
                wakeups.wait_for_events(seen, min(settings.SUBSCRIPTION_POLL_SECONDS, deadline - time.monotonic()))
    return DeliveryOutcome(delivered=delivered)


ACTIVITIES = [
    append_events_activity, get_events_activity, get_events_by_type_activity, apply_prompt_projections_activity,
    catch_up_projections_activity, rebuild_projection_activity, sign_tree_head_activity, verify_chain_activity,
    deliver_webhooks_activity,
]
