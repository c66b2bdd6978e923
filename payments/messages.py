"""What crosses the Temporal boundary for payments: commands and history queries. Pure Python,
no Django.

Money travels as decimal strings: Temporal's default converter has no Decimal. Recorded events
travel as the store's one wire type, `eventstore.temporal.messages.StoredEvent`. The activities'
signatures, names included, are in `payments/activity_signatures.py`.
"""

import hashlib
import json
from dataclasses import asdict, dataclass, field

from eventstore.temporal.inputs import at_least, instant, text_or_number
from eventstore.temporal.messages import StoredEvent
from payments.domain import canonical_payment_id_if_valid

PAYMENT_UNREADABLE = "PaymentUnreadable"  # the error type load_payment fails with; details: the owner's id


@dataclass
class PaymentCommandRequest:
    """A command, from whichever client: its payment id is made canonical here, where it enters
    (decoded from a Temporal payload, built by the API or a management command)."""

    type: str  # CREATE, REFUND or CANCEL
    payment_id: str  # empty on CREATE: the workflow generates a time-ordered one (see the result's)
    organization_id: str
    user_id: str
    amount: str | None = text_or_number(default=None)  # a decimal string; a JSON number is read as its text
    currency: str | None = None
    description: str = ""
    correlation_id: str | None = None
    idempotency_key: str | None = None
    occurred_at: str | None = instant(default=None)  # business time, ISO 8601 with offset; default: now
    # Who submits it, sealed by `payments.client` for this command's workflow (see
    # `eventstore.temporal.actor_seals`): what the events record as `actor`. Not part of what the
    # command asks, so left out of `request_fingerprint`.
    actor_seal: str = ""
    # How long a command under four-eyes control waits for a decision (settings.APPROVAL_TIMEOUT, which
    # the workflow cannot read); 0: the default of payments.approval_rules.
    approval_timeout_seconds: float = at_least(0, default=0)

    def __post_init__(self):
        self.payment_id = canonical_payment_id_if_valid(self.payment_id)


@dataclass
class PaymentCommandResult:
    success: bool
    message: str
    payment_id: str
    version: int
    event_ids: list[str] = field(default_factory=list)
    workflow_id: str = ""
    correlation_id: str = ""
    status: str = ""  # the payment's status after the command, when it exists and is the organization's
    code: str = ""  # why a command was refused: the CommandRejected code (payment_not_found, ...)
    request_fingerprint: str = ""  # lets a client tell a replay from another request under the same key
    submission: str = ""  # the memo of the submission that started the workflow
    replayed: bool = False  # set by the client: this answer comes from an earlier submission
    approval_id: str = ""  # when the command is under four-eyes control
    approval_state: str = ""  # pending, approved, rejected, refused (by the payment rules when approved), expired


@dataclass
class LoadPaymentRequest:
    payment_id: str
    command_id: str  # events already appended by this command are reported apart
    # With a REFUND or CANCEL: the organization's approval policy is read for it, and its sender's seal opened.
    command_type: str = ""
    organization_id: str = ""
    amount: str | None = None
    currency: str | None = None
    actor_seal: str = ""


@dataclass
class LoadedPayment:
    """A payment's current state (PaymentAggregate.to_snapshot()), rebuilt from snapshot and events."""

    state: dict
    applied: list[StoredEvent]  # this command's own events, if an earlier run appended them
    state_after_applied: dict | None
    latest_occurred_at: str = ""  # the latest business time a command may carry: the server's now + tolerance
    # The append applies the prompt projections itself, so the workflow runs no activity for them.
    # Recorded with the load's result, it versions the workflow: histories from before (False, the
    # default) replay with their third activity, without a patch marker and search-attribute upsert
    # on every command.
    projections_with_append: bool = False
    approval_rule: str = ""  # the policy rule that puts the command under four-eyes control, if any
    requester: dict = field(default_factory=dict)  # the sender, from its seal (eventstore.actors.Actor)


@dataclass
class ApprovalDecision:
    """An approver's answer to a command awaiting approval; who decides is in `approver_seal`,
    sealed by the Django side for the command's workflow, and checked there again."""

    decision: str  # approve or reject
    reason: str = ""  # required to reject
    approver_seal: str = ""


@dataclass
class CheckApproverRequest:
    approver_seal: str
    organization_id: str
    requester: dict


@dataclass
class CheckedApprover:
    approver: dict  # eventstore.actors.Actor.to_dict()


NOT_FINGERPRINTED = ("idempotency_key", "actor_seal", "approval_timeout_seconds")


def request_fingerprint(request: PaymentCommandRequest) -> str:
    """What makes two requests "the same" for an idempotency key: every field but the key itself, the
    actor's seal (made anew for every submission) and the approval timeout (the server's setting), the
    payment id in the canonical form the request holds ("walk-1" and "payment-walk-1" are one payment)."""
    fields = {name: value for name, value in asdict(request).items() if name not in NOT_FINGERPRINTED}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


@dataclass
class HistoryQuery:
    """operation: "history" (payment_id, made canonical here), "search" (filters) or "timeline"
    (correlation_id)."""

    operation: str
    payment_id: str | None = None
    correlation_id: str | None = None
    event_type: str | None = None
    aggregate_type: str | None = None
    organization_ids: list[str] | None = None
    currency: str | None = None
    since: str | None = instant(default=None)  # ISO 8601 with offset
    until: str | None = instant(default=None)
    after_position: int = at_least(0, default=0)
    limit: int = 100

    def __post_init__(self):
        self.payment_id = canonical_payment_id_if_valid(self.payment_id)


@dataclass
class HistoryAnswer:
    events: list[StoredEvent] = field(default_factory=list)
    next_after_position: int | None = None
