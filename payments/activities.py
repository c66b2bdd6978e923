"""Payment activities: sync functions over the Django ORM, run by the worker in a thread pool.

Each implements a signature of `payments.activity_signatures`, which is what workflows call.
Appending and applying the prompt projections go through the event store's own activities.
"""

from decimal import Decimal
from itertools import islice

from django.contrib.auth import get_user_model
from temporalio import activity
from temporalio.exceptions import ApplicationError

from eventstore import selectors as store
from eventstore.actors import Actor
from eventstore.temporal.actor_seals import open_actor_seal
from eventstore.temporal.errors import errors_are_final
from eventstore.temporal.inputs import parse_instant
from eventstore.temporal.messages import stored_event
from eventstore.temporal.worker import django_activity, implements
from payments import activity_signatures as signatures
from payments import approval_policies, selectors
from payments.approval_rules import rule_for
from payments.domain import CommandRejected, CommandType, PaymentAggregate, require_canonical_payment_id
from payments.messages import (
    PAYMENT_UNREADABLE,
    CheckApproverRequest,
    CheckedApprover,
    HistoryAnswer,
    HistoryQuery,
    LoadedPayment,
    LoadPaymentRequest,
)

INVALID_QUERY = "InvalidQuery"
APPROVER_REFUSED = "ApproverRefused"
PEOPLE = ("user", "api_token")  # actor kinds whose id is a user's
# What folding an event the payment rules cannot apply raises (missing or malformed fields).
UNFOLDABLE = (KeyError, TypeError, ValueError, ArithmeticError, CommandRejected)


@implements(signatures.load_payment)
@django_activity
def load_payment(request: LoadPaymentRequest) -> LoadedPayment:
    """The payment now, and this command's own events if an earlier run appended them. A history the
    rules cannot fold fails at once (retrying cannot fix it), naming the payment's organization so
    that the workflow tells nobody else anything of it."""
    try:
        payment = selectors.load_payment(request.payment_id)
        applied = selectors.events_of_command(request.payment_id, request.command_id) if payment.exists else []
        state_after = selectors.load_payment(request.payment_id, version=applied[-1].version) if applied else None
    except UNFOLDABLE as error:
        raise ApplicationError(
            f"The history of {request.payment_id} cannot be folded ({type(error).__name__}: {error}).",
            selectors.payment_owner(request.payment_id), type=PAYMENT_UNREADABLE, non_retryable=True,
        ) from error
    return LoadedPayment(
        state=payment.to_snapshot(),
        applied=[stored_event(event) for event in applied],
        state_after_applied=state_after.to_snapshot() if state_after else None,
        latest_occurred_at=selectors.latest_occurred_at().isoformat(),
        projections_with_append=True,
        approval_rule=_approval_rule(request, payment),
        requester=_sender(request.actor_seal).to_dict() if request.command_type else {},
    )


def _approval_rule(request: LoadPaymentRequest, payment: PaymentAggregate) -> str:
    """The organization's rule that puts this refund or cancel under four-eyes control, if any. Read
    only for the payment's own organization (another one's command is refused as not found anyway)."""
    if request.command_type not in (CommandType.REFUND, CommandType.CANCEL) or not payment.exists:
        return ""
    if request.organization_id != payment.organization_id:
        return ""
    if request.command_type == CommandType.CANCEL:
        amount, currency = payment.amount, payment.currency
    else:
        try:
            amount, currency = Decimal(str(request.amount)), (request.currency or payment.currency).upper()
        except ArithmeticError:
            return ""  # the rules refuse it first
    rule = rule_for(approval_policies.rules_of(payment.organization_id), request.command_type, amount, currency)
    return rule.describe() if rule else ""


def _sender(seal: str) -> Actor:
    """The actor the seal names; without a valid one, the Temporal client that started the workflow."""
    info = activity.info()
    actor = open_actor_seal(seal, workflow_id=info.workflow_id) if seal else None
    return actor or Actor(kind="temporal_client", id=info.workflow_id, channel="temporal")


@implements(signatures.check_approver)
@django_activity
def check_approver(request: CheckApproverRequest) -> CheckedApprover:
    """The decision's sender, from its seal, if they may decide: a person other than the requester
    (whatever credential either used), active, with the approver permission, who sees the organization."""
    actor = open_actor_seal(request.approver_seal, workflow_id=activity.info().workflow_id) \
        if request.approver_seal else None
    if actor is None or actor.kind not in PEOPLE:
        _refuse_approver("A decision needs a person's seal: approve or reject in the admin or through the API.")
    user = get_user_model().objects.filter(pk=actor.id, is_active=True).first()
    if user is None:
        _refuse_approver("The approver's account does not exist or is inactive.")
    requester = Actor.from_dict(request.requester)
    if requester.kind in PEOPLE and requester.id == actor.id:
        _refuse_approver("You asked for this command yourself: a different person has to approve or reject it.")
    if not user.has_perm("payments.approve_payment_command"):
        _refuse_approver(f"{user.get_username()} does not have the approver permission.")
    visible = selectors.visible_organizations(user)
    if visible is not None and request.organization_id not in visible:
        _refuse_approver(f"{user.get_username()} is not a member of organization {request.organization_id}.")
    return CheckedApprover(approver=actor.to_dict())


def _refuse_approver(message: str):
    raise ApplicationError(message, type=APPROVER_REFUSED, non_retryable=True)


@implements(signatures.query_history)
@django_activity
@errors_are_final(CommandRejected, type_name=INVALID_QUERY)  # a malformed payment id
def query_history(query: HistoryQuery) -> HistoryAnswer:
    """History of a payment, an event search or a correlation timeline, one page at a time."""
    limit = max(1, min(query.limit, 1000))
    if query.operation == "history" and query.payment_id:
        payment_id = require_canonical_payment_id(query.payment_id)
        events = list(islice(selectors.payment_history(payment_id, after_version=query.after_position), limit + 1))
        more = len(events) > limit  # a history pages by version: the cursor is the last version seen
        return HistoryAnswer([stored_event(e) for e in events[:limit]], events[limit - 1].version if more else None)
    if query.operation == "timeline" and query.correlation_id:
        events = list(islice(store.events_by_correlation(query.correlation_id, after_position=query.after_position),
                             limit + 1))
        more = len(events) > limit
        return HistoryAnswer([stored_event(e) for e in events[:limit]], events[limit - 1].position if more else None)
    if query.operation == "search":
        page = store.search_events(_search(query), after_position=query.after_position, limit=limit)
        return HistoryAnswer([stored_event(e) for e in page.events], page.next_after_position)
    raise ApplicationError(
        f"Unknown or incomplete query {query.operation!r}: use history (payment_id), search or timeline "
        "(correlation_id).", type=INVALID_QUERY, non_retryable=True)


def _search(query: HistoryQuery) -> store.EventSearch:
    return store.EventSearch(
        event_type=query.event_type, aggregate_type=query.aggregate_type,
        organization_ids=tuple(query.organization_ids) if query.organization_ids is not None else None,
        currency=query.currency,
        since=parse_instant(query.since, "since", error_type=INVALID_QUERY),
        until=parse_instant(query.until, "until", error_type=INVALID_QUERY),
    )


ACTIVITIES = [load_payment, query_history, check_approver]
