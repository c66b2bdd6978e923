"""Reading payments: aggregates rebuilt from events (with snapshots), state as of a version or time.

Payment ids here are canonical ("payment-123"): they are made so where they enter (the messages of
`payments.messages`, the API's paths, the admin's URLs), and a payment's id is its stream's.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterator

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from eventstore import selectors as store
from eventstore.events import RecordedEvent
from eventstore.projections.snapshots import latest_snapshot
from payments.domain import (
    SNAPSHOT_SCHEMA_VERSION,
    CommandRejected,
    PaymentAggregate,
    parse_occurred_at,
)
from payments.models import ApiToken, Approval, Membership, Organization, PaymentSummary
from payments.tokens import token_of


def load_payment(
    payment_id: str, *, version: int | None = None, at: datetime | None = None, known_at: datetime | None = None,
    use_snapshots: bool = True,
) -> PaymentAggregate:
    """The payment as of `version`, or bitemporally: as of business time `at` (what had occurred by
    then) as known at recorded time `known_at` (what had been recorded by then); each defaults to now.

    Newest snapshot, then later events; by business time every event is folded in version order,
    those that occurred after `at` left out. A payment that did not exist then has version 0 and no
    status; otherwise its version is that of the last event folded in.
    """
    snapshot = (
        latest_snapshot(payment_id, schema_version=SNAPSHOT_SCHEMA_VERSION, at_or_below=version, recorded_by=known_at)
        if use_snapshots and at is None else None
    )
    aggregate = PaymentAggregate.from_snapshot(snapshot.state) if snapshot else PaymentAggregate(payment_id)
    events = store.read_stream(payment_id, from_version=aggregate.version + 1, to_version=version, recorded_by=known_at)
    if at is None:
        return aggregate.fold((event.event_type, event.data) for event in events)
    for event in events:
        if occurred_at(event) <= at:
            aggregate.fold([(event.event_type, event.data)])
            aggregate.version = event.version
    return aggregate


def occurred_at(event: RecordedEvent) -> datetime:
    """An event's business time: `data.occurred_at` (every payment event has it once upcast), else
    when it was recorded."""
    text = event.data.get("occurred_at") if isinstance(event.data, dict) else None
    try:
        return parse_occurred_at(text) if text else event.recorded_at
    except CommandRejected:
        return event.recorded_at


def latest_occurred_at() -> datetime:
    """The latest business time a command may carry now: the server's clock plus the tolerance."""
    return timezone.now() + timedelta(seconds=settings.PAYMENTS_OCCURRED_AT_TOLERANCE_SECONDS)


def payment_owner(payment_id: str) -> str:
    """The organization that created the payment, read from its first event ("" if none says)."""
    first = next(store.read_stream(payment_id, to_version=1), None)
    if first is None:
        return ""
    owner = first.data.get("organization_id") or first.metadata.get("organization_id") or ""
    return owner if isinstance(owner, str) else ""


def payment_history(payment_id: str, *, after_version: int = 0) -> Iterator[RecordedEvent]:
    """A payment's events in version order, after `after_version`."""
    return store.read_stream(payment_id, from_version=after_version + 1)


def events_of_command(payment_id: str, command_id: str) -> list[RecordedEvent]:
    """The events a command (by its causation id) has already appended to a payment: filtered by the
    database, so a long history is not sent to be searched here."""
    return list(store.read_stream(payment_id, caused_by=command_id))


@dataclass(frozen=True)
class PaymentStateAsOf:
    state: dict  # PaymentAggregate.to_snapshot(); money as decimal strings
    version: int
    recorded_at: datetime | None  # when the event at `version` was recorded
    occurred_at: datetime | None = None  # and when it occurred (business time)


def payment_state_as_of(
    payment_id: str, *, version: int | None = None, at: datetime | None = None, known_at: datetime | None = None,
) -> PaymentStateAsOf | None:
    """Time travel: the payment as it was at a version, or as of business time `at` as known at
    recorded time `known_at`; None if it did not exist yet."""
    aggregate = load_payment(payment_id, version=version, at=at, known_at=known_at)
    if not aggregate.exists:
        return None
    event = next(store.read_stream(aggregate.payment_id, from_version=aggregate.version,
                                   to_version=aggregate.version), None)
    if event is None:
        return PaymentStateAsOf(aggregate.to_snapshot(), aggregate.version, None)
    return PaymentStateAsOf(aggregate.to_snapshot(), aggregate.version, event.recorded_at, occurred_at(event))


def visible_organizations(user) -> list[str] | None:
    """The organization ids `user` may see and command; None means every organization. A user
    authenticated with an API token sees only the organizations the token is limited to (worked out
    once per request, in one query)."""
    if not user.is_authenticated or not user.is_active:
        return []
    token = token_of(user)
    if token is None:
        return _visible_to(user)
    if not hasattr(token, "visible_organization_ids"):
        token.visible_organization_ids = _visible_through(token, user)
    visible = token.visible_organization_ids
    return None if visible is None else list(visible)


def _visible_to(user) -> list[str] | None:
    if user.has_perm("payments.view_all_organizations"):
        return None
    return list(Membership.objects.filter(user=user).values_list("organization_id", flat=True))


def _visible_through(token: ApiToken, user) -> list[str] | None:
    """The token's organizations that its user may still see (a membership ended since it was made
    ends the token's view of that organization too)."""
    if token.all_organizations:
        return _visible_to(user)
    organizations = Organization.objects.filter(api_tokens=token)
    if not user.has_perm("payments.view_all_organizations"):
        organizations = organizations.filter(members=user)
    return list(organizations.values_list("id", flat=True))


def payment_summaries(organization_ids: list[str] | None) -> QuerySet:
    summaries = PaymentSummary.objects.all()
    return summaries if organization_ids is None else summaries.filter(organization_id__in=organization_ids)


def visible_payment(payment_id: str, organization_ids: list[str] | None) -> PaymentSummary | None:
    """The payment's summary if it exists and its organization is visible."""
    return payment_summaries(organization_ids).filter(payment_id=payment_id).first()


_PAYMENT_ID = f"SELECT payment_id FROM {PaymentSummary._meta.db_table} WHERE payment_id = %s"
_PAYMENT_ID_IN = _PAYMENT_ID + " AND organization_id = ANY(%s::text[])"


def visible_payment_id(payment_id: str, organization_ids: list[str] | None) -> str | None:
    """`payment_id` if that payment exists and its organization is visible, as `visible_payment` answers,
    in a statement of fixed text (a history page asks this before every page)."""
    if organization_ids is None:
        rows = store.fetch_rows(_PAYMENT_ID, [payment_id])
    else:
        rows = store.fetch_rows(_PAYMENT_ID_IN, [payment_id, list(organization_ids)])
    return rows[0][0] if rows else None


@dataclass(frozen=True)
class HistoryEntry:
    event: RecordedEvent
    state: dict  # the payment right after this event
    changes: dict[str, tuple]  # field: (before, after)
    problem: str = ""  # why the event could not be applied (the state is then the one before it)

    @property
    def occurred_at(self) -> datetime:
        return occurred_at(self.event)


def history_with_states(payment_id: str) -> list[HistoryEntry]:
    """Each event of a payment with the state it left and what it changed, for people to read. An
    event the domain cannot apply (one set aside) is shown with why, and leaves the state as it was."""
    payment, before, entries = PaymentAggregate(payment_id), None, []
    for event in payment_history(payment_id):
        try:
            payment.fold([(event.event_type, event.data)])
        except (KeyError, TypeError, ValueError, ArithmeticError) as error:
            payment.version = event.version
            entries.append(HistoryEntry(event, payment.to_snapshot(), {}, f"not applied: {type(error).__name__}: {error}"))
            continue
        state = payment.to_snapshot()
        changes = {field: ((before or {}).get(field), value) for field, value in state.items()
                   if field != "version" and (before or {}).get(field) != value}
        entries.append(HistoryEntry(event, state, changes))
        before = state
    return entries


APPROVE_PERMISSION = "payments.approve_payment_command"
APPROVAL_VIEWS = ("waiting_for_me", "requested_by_me", "decided")


def approvals(user, view: str | None = None) -> QuerySet:
    """The four-eyes requests of the user's organizations; `view` narrows them to those waiting for
    the user's decision, those the user asked for, or those decided (approved, rejected, refused, expired)."""
    organizations = visible_organizations(user)
    rows = Approval.objects.all() if organizations is None else Approval.objects.filter(
        organization_id__in=organizations)
    me = str(user.pk)
    if view == "waiting_for_me":
        if not user.has_perm(APPROVE_PERMISSION):
            return rows.none()
        return rows.filter(state="pending").exclude(requested_by_id=me).order_by("requested_at")
    if view == "requested_by_me":
        return rows.filter(requested_by_id=me)
    if view == "decided":
        return rows.exclude(state="pending").order_by("-decided_at")
    return rows


def visible_approval(user, approval_id: str) -> Approval | None:
    """The approval if its organization is the user's: another organization's reads as missing."""
    return approvals(user).filter(approval_id=approval_id).first()


def waiting_for(user) -> int:
    """How many requests wait for this user's decision."""
    return approvals(user, "waiting_for_me").count() if user.is_authenticated else 0


def payment_approvals(payment_id: str) -> list[Approval]:
    return list(Approval.objects.filter(payment_id=payment_id).order_by("requested_at"))


def with_approvals_flag(summaries: QuerySet) -> QuerySet:
    """Payment summaries, each with `has_approvals`: whether any four-eyes request names it (most
    payments have none, and their page then asks for none)."""
    return summaries.annotate(has_approvals=Exists(Approval.objects.filter(payment_id=OuterRef("payment_id"))))
