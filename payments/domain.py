"""The payment domain: commands, events and the aggregate that decides. Pure Python, no Django.

Workflows import this module through the sandbox's pass-through and run decisions inside the
workflow, deterministically. Money is `Decimal` here and a decimal string everywhere else.
"""

import enum
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

from iso4217 import Currency

AGGREGATE_TYPE = "Payment"
SCHEMA_VERSION = 2  # of the events' data; 2 added `occurred_at` (see payments/upcasting.py for 1)
SNAPSHOT_SCHEMA_VERSION = 2  # of PaymentAggregate.to_snapshot(); bump to ignore older snapshots
MAX_AMOUNT = Decimal("999999999999")  # per payment, in major units
MAX_DESCRIPTION_LENGTH = 500


class CommandType(enum.StrEnum):
    CREATE = "CREATE"
    REFUND = "REFUND"
    CANCEL = "CANCEL"


class EventType(enum.StrEnum):
    PAYMENT_PROCESSED = "PaymentProcessed"
    PAYMENT_REFUNDED = "PaymentRefunded"
    PAYMENT_CANCELLED = "PaymentCancelled"


class ApprovalEventType(enum.StrEnum):
    """A refund or cancel under four-eyes control: asked for, then turned down or left to expire.
    Approved, the command's own event follows (it names the approval). None changes a balance."""

    REFUND_REQUESTED = "RefundRequested"
    REFUND_REJECTED = "RefundRejected"
    REFUND_EXPIRED = "RefundExpired"
    CANCEL_REQUESTED = "CancelRequested"
    CANCEL_REJECTED = "CancelRejected"
    CANCEL_EXPIRED = "CancelExpired"


def approval_event_type(command_type: "CommandType", step: str) -> ApprovalEventType:
    """The event of `step` ("Requested", "Rejected", "Expired") of a REFUND or CANCEL."""
    return ApprovalEventType(f"{command_type.value.capitalize()}{step}")


class PaymentStatus(enum.StrEnum):
    PROCESSED = "PROCESSED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"
    CANCELLED = "CANCELLED"


class CommandRejected(Exception):
    """A business rule refused the command: a result for the caller, not a failure of the system."""

    code = "command_rejected"


class PaymentNotFound(CommandRejected):
    """No such payment for the command's organization: whether it does not exist or belongs to
    another organization, the caller is told the same, and nothing of the payment."""

    code = "payment_not_found"

    def __init__(self, payment_id: str):
        super().__init__(f"Payment {payment_id} does not exist.")


class PaymentIdTaken(CommandRejected):
    """CREATE of an id already in use. The message says neither whose payment it is nor its state."""

    code = "payment_id_taken"

    def __init__(self, payment_id: str):
        super().__init__(
            f"The payment id {payment_id} is already taken; choose another, or leave payment_id out "
            "and a new id is generated."
        )


class PaymentUnreadable(CommandRejected):
    """The payment's history holds an event its rules cannot apply (one stored behind the checks):
    it takes no command until an operator repairs it. Told only to its own organization."""

    code = "payment_unreadable"

    def __init__(self, payment_id: str):
        super().__init__(
            f"Payment {payment_id} takes no commands: an event in its history cannot be applied by the "
            "payment rules, and an operator has to repair it. Nothing was written."
        )


def refusal_of_unreadable(command: "PaymentCommand", owner_organization_id: str) -> CommandRejected:
    """What a command on a payment whose history cannot be folded is told: as much as it may know."""
    if command.type == CommandType.CREATE:
        return PaymentIdTaken(command.payment_id)
    if owner_organization_id != command.organization_id:
        return PaymentNotFound(command.payment_id)
    return PaymentUnreadable(command.payment_id)


APPROVAL_EVENT_TYPES = frozenset(each.value for each in ApprovalEventType)
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}")
STREAM_PREFIX = "payment-"


def canonical_payment_id(payment_id: str) -> str:
    """Payment ids name their stream: "123" and "payment-123" are both the payment "payment-123".

    A canonical id is its own canonical id, the longest ("payment-" and 100 characters) included.
    Ids are made canonical once, where they enter the system (the messages of payments.messages, the
    API's paths, the admin's URLs); the code past that point takes them as they are."""
    if is_canonical_payment_id(payment_id):
        return payment_id
    _check_id("payment id", payment_id)
    return STREAM_PREFIX + payment_id


def is_canonical_payment_id(payment_id: str) -> bool:
    return isinstance(payment_id, str) and payment_id.startswith(STREAM_PREFIX) and bool(
        ID_PATTERN.fullmatch(payment_id) or ID_PATTERN.fullmatch(payment_id[len(STREAM_PREFIX):]))


def canonical_payment_id_if_valid(payment_id: str | None) -> str | None:
    """What a payment id entering the system becomes: its canonical form; or, when it is no id at all
    (empty, None, bad characters), what was sent, for the check further in to refuse with its reason
    (`require_canonical_payment_id`)."""
    try:
        return canonical_payment_id(payment_id)
    except CommandRejected:
        return payment_id


def require_canonical_payment_id(payment_id: str) -> str:
    """`payment_id`, which its entry point made canonical if it is an id at all; CommandRejected if not."""
    if is_canonical_payment_id(payment_id):
        return payment_id
    _check_id("payment id", payment_id)
    raise CommandRejected(f"The payment id {payment_id!r} is not in its canonical form, {STREAM_PREFIX}{payment_id}.")


def time_ordered_payment_id(unix_ms: int, random_bits: int) -> str:
    """A new payment id: "payment-" and a version 7 UUID (RFC 9562), so ids sort by creation time.

    48 bits of Unix time in milliseconds, the version, 12 + 62 bits of `random_bits` (74 bits are
    used) and the variant. The caller passes time and randomness in, so a workflow can draw them
    deterministically (workflow.now(), workflow.random())."""
    rand_a, rand_b = (random_bits >> 62) & 0xFFF, random_bits & (2**62 - 1)
    value = (unix_ms & (2**48 - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return STREAM_PREFIX + str(uuid.UUID(int=value))


def _check_id(label: str, value: str) -> None:
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise CommandRejected(
            f"The {label} {value!r} is not valid: use 1 to 100 letters, digits or . _ : @ - characters."
        )


def minor_units(currency_code: str) -> int:
    """The currency's ISO 4217 minor units (EUR 2, JPY 0, KWD 3), or CommandRejected."""
    try:
        currency = Currency(currency_code)
    except ValueError:
        raise CommandRejected(f"{currency_code!r} is not an ISO 4217 currency code.") from None
    if currency.exponent is None:
        raise CommandRejected(f"{currency_code} ({currency.currency_name}) has no minor units and cannot be paid in.")
    return currency.exponent


def currencies_by_minor_units() -> dict[int, list[str]]:
    """Every ISO 4217 currency that can be paid in, by minor units: {0: ["BIF", ...], 2: [...], ...}."""
    groups: dict[int, set[str]] = {}
    for currency in Currency:
        if currency.exponent is not None:
            groups.setdefault(currency.exponent, set()).add(currency.code)
    return {units: sorted(codes) for units, codes in sorted(groups.items())}


def parse_amount(text: str | Decimal | None, currency_code: str) -> Decimal:
    """A positive amount with no more decimals than the currency allows, as a Decimal."""
    amount = parse_positive_amount(text)
    decimals = minor_units(currency_code)
    if -amount.as_tuple().exponent > decimals and amount != amount.quantize(Decimal(1).scaleb(-decimals)):
        raise CommandRejected(f"{currency_code} amounts have at most {decimals} decimals; {text} has more.")
    return amount.quantize(Decimal(1).scaleb(-decimals))


def parse_positive_amount(text: str | Decimal | None) -> Decimal:
    """A finite amount greater than zero and within MAX_AMOUNT, whatever the currency."""
    if text is None or text == "":
        raise CommandRejected("An amount is required.")
    try:
        amount = Decimal(str(text).strip())
    except InvalidOperation:
        raise CommandRejected(f"Amount {text!r} is not a number.") from None
    if not amount.is_finite():
        raise CommandRejected(f"Amount {text!r} is not a number.")
    if amount <= 0:
        raise CommandRejected(f"The amount must be greater than zero, not {amount}.")
    if amount > MAX_AMOUNT:
        raise CommandRejected(f"The amount {amount} is over the limit of {MAX_AMOUNT} per payment.")
    return amount


def money(amount: Decimal) -> str:
    return format(amount, "f")


def parse_occurred_at(value: str | datetime) -> datetime:
    """Business time: an ISO 8601 date and time with an offset (or an aware datetime), in UTC."""
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise CommandRejected(
                f"occurred_at {value!r} is not an ISO 8601 date and time, e.g. 2024-03-05T10:30:00+01:00."
            ) from None
    if not isinstance(moment, datetime):
        raise CommandRejected("occurred_at must be an ISO 8601 date and time with an offset.")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CommandRejected(f"occurred_at {value!s} has no offset; add one, e.g. Z or +01:00.")
    return moment.astimezone(UTC)


def business_time_text(moment: datetime) -> str:
    """How business time is stored in an event's data: UTC, to the microsecond, so texts sort as times."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class PaymentCommand:
    type: CommandType
    payment_id: str
    organization_id: str
    user_id: str
    amount: str | None = None
    currency: str | None = None
    description: str = ""
    occurred_at: datetime | None = None  # business time; the workflow fills in "now" when the caller gave none


@dataclass(frozen=True)
class NewDomainEvent:
    event_type: EventType
    data: dict[str, Any]


@dataclass
class PaymentAggregate:
    """A payment, rebuilt by folding its events; `decide` returns new events and never edits old ones.

    `version` is the version of the stored events it was rebuilt from (the expected version of the
    next append); `execute` applies new events on top and keeps them in `uncommitted_events`.
    """

    payment_id: str
    version: int = 0
    status: PaymentStatus | None = None
    organization_id: str = ""
    user_id: str = ""
    amount: Decimal = Decimal(0)
    refunded: Decimal = Decimal(0)
    currency: str = ""
    description: str = ""
    occurred_at: datetime | None = None  # business time of the payment itself (its PaymentProcessed)
    uncommitted_events: list[NewDomainEvent] = field(default_factory=list)

    @classmethod
    def from_events(cls, payment_id: str, events: Iterable[tuple[str, dict]]) -> "PaymentAggregate":
        return cls(payment_id).fold(events)

    def fold(self, events: Iterable[tuple[str, dict]]) -> "PaymentAggregate":
        """Apply stored events on top of this state, one version each."""
        for event_type, data in events:
            if event_type not in APPROVAL_EVENT_TYPES:
                self._apply(EventType(event_type), data)
            self.version += 1
        return self

    def to_snapshot(self) -> dict:
        return {
            "payment_id": self.payment_id, "version": self.version,
            "status": str(self.status) if self.status else None,
            "organization_id": self.organization_id, "user_id": self.user_id,
            "amount": money(self.amount), "refunded": money(self.refunded),
            "currency": self.currency, "description": self.description,
            "occurred_at": business_time_text(self.occurred_at) if self.occurred_at else None,
        }

    @classmethod
    def from_snapshot(cls, state: dict) -> "PaymentAggregate":
        return cls(
            payment_id=state["payment_id"], version=state["version"],
            status=PaymentStatus(state["status"]) if state["status"] else None,
            organization_id=state["organization_id"], user_id=state["user_id"],
            amount=Decimal(state["amount"]), refunded=Decimal(state["refunded"]),
            currency=state["currency"], description=state["description"],
            occurred_at=parse_occurred_at(state["occurred_at"]) if state.get("occurred_at") else None,
        )

    @property
    def exists(self) -> bool:
        return self.status is not None

    @property
    def refundable(self) -> Decimal:
        return self.amount - self.refunded

    def execute(self, command: PaymentCommand, *, latest_occurred_at: datetime | None = None) -> list[NewDomainEvent]:
        """Decide on `command`, apply the new events and keep them as uncommitted."""
        events = self.decide(command, latest_occurred_at=latest_occurred_at)
        for event in events:
            self._apply(event.event_type, event.data)
        self.uncommitted_events.extend(events)
        return events

    def decide(self, command: PaymentCommand, *, latest_occurred_at: datetime | None = None) -> list[NewDomainEvent]:
        """The events `command` leads to. `latest_occurred_at` is the latest business time accepted
        (the caller's "now" plus its tolerance): the domain reads no clock."""
        _check_id("organization id", command.organization_id)
        _check_id("user id", command.user_id)
        _check_description(command.description)
        _check_not_in_future(command.occurred_at, latest_occurred_at)
        if command.type == CommandType.CREATE:
            return [self._stamped(self._create(command), command)]
        self._require_open_payment(command)
        self._require_not_before_payment(command)
        if command.type == CommandType.REFUND:
            return [self._stamped(self._refund(command), command)]
        if command.type == CommandType.CANCEL:
            return [self._stamped(self._cancel(command), command)]
        raise CommandRejected(f"Unknown command {command.type!r}; use CREATE, REFUND or CANCEL.")

    @staticmethod
    def _stamped(event: NewDomainEvent, command: PaymentCommand) -> NewDomainEvent:
        if command.occurred_at is None:
            return event
        return NewDomainEvent(event.event_type, {**event.data, "occurred_at": business_time_text(command.occurred_at)})

    def _require_not_before_payment(self, command: PaymentCommand) -> None:
        if command.occurred_at is not None and self.occurred_at is not None and command.occurred_at < self.occurred_at:
            raise CommandRejected(
                f"A {'refund' if command.type == CommandType.REFUND else 'cancellation'} of payment "
                f"{self.payment_id} cannot have occurred "
                f"({business_time_text(command.occurred_at)}) before the payment itself "
                f"({business_time_text(self.occurred_at)})."
            )

    def _create(self, command: PaymentCommand) -> NewDomainEvent:
        if self.exists:
            raise PaymentIdTaken(self.payment_id)
        currency = (command.currency or "").upper()
        if not currency:
            raise CommandRejected("A currency is required.")
        amount = parse_amount(command.amount, currency)
        return NewDomainEvent(EventType.PAYMENT_PROCESSED, {
            "payment_id": self.payment_id,
            "organization_id": command.organization_id,
            "user_id": command.user_id,
            "amount": money(amount),
            "currency": currency,
            "description": command.description,
        })

    def _require_open_payment(self, command: PaymentCommand) -> None:
        if not self.exists or command.organization_id != self.organization_id:
            raise PaymentNotFound(self.payment_id)
        if self.status == PaymentStatus.CANCELLED:
            raise CommandRejected(f"Payment {self.payment_id} was cancelled; nothing more can be done with it.")

    def _refund(self, command: PaymentCommand) -> NewDomainEvent:
        currency = (command.currency or self.currency).upper()
        if currency != self.currency:
            raise CommandRejected(
                f"The refund is in {currency} but payment {self.payment_id} was made in {self.currency}."
            )
        amount = parse_amount(command.amount, currency)
        if amount > self.refundable:
            raise CommandRejected(
                f"A refund of {money(amount)} {currency} exceeds what is left to refund on payment "
                f"{self.payment_id}: {money(self.refundable)} {currency} of {money(self.amount)} {currency}."
            )
        return NewDomainEvent(EventType.PAYMENT_REFUNDED, {
            "payment_id": self.payment_id,
            "user_id": command.user_id,
            "amount": money(amount),
            "currency": currency,
            "refunded_total": money(self.refunded + amount),
            "description": command.description,
        })

    def _cancel(self, command: PaymentCommand) -> NewDomainEvent:
        if self.refunded > 0:
            raise CommandRejected(
                f"Payment {self.payment_id} already has refunds ({money(self.refunded)} {self.currency}) "
                "and can no longer be cancelled."
            )
        return NewDomainEvent(EventType.PAYMENT_CANCELLED, {
            "payment_id": self.payment_id,
            "user_id": command.user_id,
            "amount": money(self.amount),
            "currency": self.currency,
            "description": command.description,
        })

    def _apply(self, event_type: EventType, data: dict) -> None:
        if event_type == EventType.PAYMENT_PROCESSED:
            self.status = PaymentStatus.PROCESSED
            self.organization_id = data["organization_id"]
            self.user_id = data["user_id"]
            self.amount = Decimal(data["amount"])
            self.refunded = Decimal(0).quantize(self.amount)  # "0.00" in the currency's minor units
            self.currency = data["currency"]
            self.description = data.get("description", "")
            self.occurred_at = parse_occurred_at(data["occurred_at"]) if data.get("occurred_at") else None
        elif event_type == EventType.PAYMENT_REFUNDED:
            self.refunded += Decimal(data["amount"])
            self.status = PaymentStatus.REFUNDED if self.refunded == self.amount else PaymentStatus.PARTIALLY_REFUNDED
        elif event_type == EventType.PAYMENT_CANCELLED:
            self.status = PaymentStatus.CANCELLED


def _check_description(description: str) -> None:
    if not isinstance(description, str):
        raise CommandRejected("The description must be text.")
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise CommandRejected(f"The description is {len(description)} characters; the limit is {MAX_DESCRIPTION_LENGTH}.")


def _check_not_in_future(occurred_at: datetime | None, latest: datetime | None) -> None:
    if occurred_at is not None and latest is not None and occurred_at > latest:
        raise CommandRejected(
            f"occurred_at {business_time_text(occurred_at)} is in the future: the latest accepted now is "
            f"{business_time_text(latest)}."
        )
