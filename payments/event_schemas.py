"""The JSON Schemas of the payment events, declared once: the store checks every Payment event
against them before writing it, whatever the path (command workflow, EventStoreWorkflow, Python
API), and the API documentation publishes them. Pure data built from the domain's own rules.

They describe what the domain writes (`PaymentAggregate.decide`) and what folding an event needs
(`PaymentAggregate._apply`, the payment summary projection): the known event types, their required
fields and types, and money as decimal strings with exactly the currency's ISO 4217 minor units.
Fields beyond these are allowed, so that a later schema version can add some.

Personal fields carry `"x-personal": true` (an OpenAPI extension the validator ignores): the free-text
description and the id of the person on whose behalf (`user_id`, in data and metadata). The store keeps
them encrypted under the payment's own key (subject `payment:<payment id>`), which erasure destroys
(`eventstore.personal_data`).

Only the keywords OpenAPI 3.0 shares with JSON Schema are used (no `const`, no `if`), so the API
documentation can publish them as they are. Patterns end with `$(?!\\n)`: the end of the text in
every dialect, where Python's `$` alone would also accept a final newline.
"""

from iso4217 import Currency

from eventstore import actors
from eventstore.registry import EventSchemas
from payments.domain import ID_PATTERN, MAX_DESCRIPTION_LENGTH, STREAM_PREFIX, ApprovalEventType, EventType

ID_CHARACTERS = "[A-Za-z0-9._:@-]"


def _whole(regex: str) -> str:
    return f"^(?:{regex})$(?!\\n)"


def _money_pattern(decimals: int) -> str:
    whole = "(?:0|[1-9][0-9]{0,11})"  # at most MAX_AMOUNT's 12 digits
    return _whole(whole if decimals == 0 else rf"{whole}\.[0-9]{{{decimals}}}")


def _currencies_by_minor_units() -> dict[int, list[str]]:
    groups: dict[int, list[str]] = {}
    for currency in Currency:
        if currency.exponent is not None:  # funds and metals (XAU, XDR...) cannot be paid in
            groups.setdefault(currency.exponent, []).append(currency.code)
    return {decimals: sorted(codes) for decimals, codes in sorted(groups.items())}


CURRENCIES_BY_MINOR_UNITS = _currencies_by_minor_units()

IDENTIFIER = {"type": "string", "pattern": _whole(ID_PATTERN.pattern),
              "description": "1 to 100 letters, digits or . _ : @ - characters, e.g. \"org-456\"."}
PAYMENT_ID = {"type": "string", "pattern": _whole(f"{STREAM_PREFIX}{ID_CHARACTERS}{{0,100}}"),
              "description": "The payment's stream id, e.g. \"payment-123\"."}
AMOUNT = {"type": "string", "pattern": _whole(r"[0-9]+(?:\.[0-9]+)?"), "not": {"pattern": _whole(r"[0.]+")},
          "description": "A positive decimal string with exactly the currency's minor units, e.g. \"125.00\" "
                         "in EUR, \"1500\" in JPY, \"12.345\" in KWD."}
CURRENCY = {"type": "string", "pattern": _whole("[A-Z]{3}"),
            "description": "An ISO 4217 currency code that has minor units, e.g. \"EUR\"."}
PERSONAL = {"x-personal": True}
PERSON_ID = {**IDENTIFIER, **PERSONAL}
DESCRIPTION = {"type": "string", "maxLength": MAX_DESCRIPTION_LENGTH, **PERSONAL}
OCCURRED_AT = {"type": "string", "format": "date-time",
               "pattern": _whole(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
                                 r"(?:Z|[+-][0-9]{2}:[0-9]{2})"),
               "description": "Business time (schema version 2): when it happened at the provider or bank, "
                              "e.g. \"2024-03-05T09:30:00.000000+00:00\". Events of version 1 are read with their "
                              "recorded time here."}
IN_MINOR_UNITS = {
    "description": "Amounts are decimal strings with exactly the currency's ISO 4217 minor units (EUR 2 "
                   "decimals, JPY none, KWD 3), and the currency is an ISO 4217 code that has minor units.",
    "anyOf": [
        {"properties": {"currency": {"enum": codes}, "amount": {"pattern": _money_pattern(decimals)},
                        "refunded_total": {"pattern": _money_pattern(decimals)}}}
        for decimals, codes in CURRENCIES_BY_MINOR_UNITS.items()
    ],
}


def _payment_event(description: str, required: list[str], **properties: dict) -> dict:
    return {
        "type": "object",
        "description": description,
        "required": required,
        "properties": {"payment_id": PAYMENT_ID, "user_id": PERSON_ID, "amount": AMOUNT, "currency": CURRENCY,
                       "description": DESCRIPTION, "occurred_at": OCCURRED_AT, **properties},
        "allOf": [IN_MINOR_UNITS],
    }


DATA_SCHEMAS = {
    EventType.PAYMENT_PROCESSED: _payment_event(
        "A payment was made (command CREATE).",
        ["payment_id", "organization_id", "user_id", "amount", "currency"],
        organization_id=IDENTIFIER,
    ),
    EventType.PAYMENT_REFUNDED: _payment_event(
        "Part or all of a payment was refunded (command REFUND); `refunded_total` is the sum of its refunds "
        "so far.",
        ["payment_id", "user_id", "amount", "currency", "refunded_total"],
        refunded_total=AMOUNT,
    ),
    EventType.PAYMENT_CANCELLED: _payment_event(
        "A payment with no refund was cancelled (command CANCEL); `amount` is the payment's amount.",
        ["payment_id", "user_id", "amount", "currency"],
    ),
}

APPROVAL_ID = {"type": "string", "minLength": 1, "maxLength": 64, "description": "The approval's id (a UUID)."}
PERSON = {"type": "object", "description": "Who, as the server verified it: the user's id and name.",
          "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}
REASON = {"type": "string", "minLength": 1, "maxLength": MAX_DESCRIPTION_LENGTH}


def _approval_event(summary: str, required: list[str], **properties: dict) -> dict:
    return {"type": "object", "description": summary, "required": ["payment_id", "approval_id", *required],
            "properties": {"payment_id": PAYMENT_ID, "approval_id": APPROVAL_ID, "occurred_at": OCCURRED_AT,
                           **properties}}


def _requested(what: str) -> dict:
    return {**_approval_event(
        f"A {what} that the organization's approval policy puts under four-eyes control was asked for; it "
        "waits for a second person (no balance changes). `amount` is what would go back out; `rule` the "
        "policy's rule; `expires_at` when it expires without a decision.",
        ["user_id", "amount", "currency", "rule", "expires_at", "requested_by"],
        user_id=IDENTIFIER, amount=AMOUNT, currency=CURRENCY, description=DESCRIPTION,
        rule={"type": "string"}, expires_at=OCCURRED_AT, requested_by=PERSON), "allOf": [IN_MINOR_UNITS]}


def _rejected(what: str) -> dict:
    return _approval_event(
        f"The {what} asked for was turned down: by `rejected_by` with `reason`, or, approved by `approved_by`, "
        "refused by the payment rules when it ran (`refused_by_rules`, the rule's message in `reason`).",
        ["reason"], reason=REASON, rejected_by=PERSON, approved_by=PERSON, refused_by_rules={"type": "boolean"})


def _expired(what: str) -> dict:
    return _approval_event(f"No one decided on the {what} asked for before `expired_at`; nothing went out.",
                           ["expired_at"], expired_at=OCCURRED_AT)


DATA_SCHEMAS.update({
    ApprovalEventType.REFUND_REQUESTED: _requested("refund"),
    ApprovalEventType.REFUND_REJECTED: _rejected("refund"),
    ApprovalEventType.REFUND_EXPIRED: _expired("refund"),
    ApprovalEventType.CANCEL_REQUESTED: _requested("cancel"),
    ApprovalEventType.CANCEL_REJECTED: _rejected("cancel"),
    ApprovalEventType.CANCEL_EXPIRED: _expired("cancel"),
})

METADATA_SCHEMA = {
    "type": "object",
    "description": "Who and what caused a payment event; every field is optional.",
    "properties": {
        **{name: {"type": "string"} for name in (
            "correlation_id", "causation_id", "command", "organization_id", "workflow_id", "run_id")},
        "user_id": {"type": "string", **PERSONAL},
        "schema_version": {"type": "integer", "minimum": 1},
        "actor": actors.SCHEMA,
        "approved_by": actors.SCHEMA,
    },
}

PAYMENT_EVENT_SCHEMAS = EventSchemas(data={str(event_type): schema for event_type, schema in DATA_SCHEMAS.items()},
                                     metadata=METADATA_SCHEMA)

ORGANIZATION_AGGREGATE_TYPE = "Organization"
ORGANIZATION_CALENDAR_CHANGED = "OrganizationCalendarChanged"
CALENDAR = {
    "type": "object",
    "required": ["time_zone", "reporting_currency"],
    "properties": {"time_zone": {"type": "string", "maxLength": 64,
                                 "description": "An IANA time zone name, e.g. \"Europe/Paris\"."},
                   "reporting_currency": CURRENCY},
}
ORGANIZATION_EVENT_SCHEMAS = EventSchemas(
    data={ORGANIZATION_CALENDAR_CHANGED: {
        "type": "object",
        "description": "An organization's calendar was set or changed in the admin: the time zone its days and "
                       "months are cut in and its reporting currency; `previous` is absent for the first one.",
        "required": ["organization_id", "time_zone", "reporting_currency"],
        "properties": {"organization_id": IDENTIFIER, **CALENDAR["properties"], "previous": CALENDAR},
    }},
    metadata={
        "type": "object",
        "description": "The organization the change belongs to and who made it.",
        "required": ["organization_id", "actor"],
        "properties": {"organization_id": {"type": "string"}, "actor": {"type": "object"}},
    },
)
