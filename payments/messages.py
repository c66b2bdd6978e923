"""What crosses the Temporal boundary for payment commands. Pure Python, no Django.

Money travels as decimal strings: Temporal's default converter has no Decimal.
"""

import hashlib
import json
from dataclasses import asdict, dataclass, field


@dataclass
class PaymentCommandRequest:
    type: str  # CREATE, REFUND or CANCEL
    payment_id: str
    organization_id: str
    user_id: str
    amount: str | None = None
    currency: str | None = None
    description: str = ""
    correlation_id: str | None = None
    idempotency_key: str | None = None


@dataclass
class PaymentCommandResult:
    success: bool
    message: str
    payment_id: str
    version: int
    event_ids: list[str] = field(default_factory=list)
    workflow_id: str = ""
    correlation_id: str = ""
    status: str = ""  # the payment's status after the command, when it exists
    request_fingerprint: str = ""  # lets a client tell a replay from another request under the same key
    submission: str = ""  # the memo of the submission that started the workflow
    replayed: bool = False  # set by the client: this answer comes from an earlier submission


@dataclass
class LoadPaymentRequest:
    payment_id: str
    command_id: str  # events already appended by this command are reported apart


@dataclass
class AppliedEvent:
    event_id: str
    event_type: str
    version: int
    data: dict


@dataclass
class LoadedPayment:
    """A payment's current state (PaymentAggregate.to_snapshot()), rebuilt from snapshot and events."""

    state: dict
    applied: list[AppliedEvent]  # this command's own events, if an earlier run appended them
    state_after_applied: dict | None


@dataclass
class PublishRequest:
    stream_id: str
    positions: list[int]


def request_fingerprint(request: PaymentCommandRequest) -> str:
    """What makes two requests "the same" for an idempotency key: every field but the key itself."""
    fields = {name: value for name, value in asdict(request).items() if name != "idempotency_key"}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
