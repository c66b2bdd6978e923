"""The payment events' schemas (payments/event_schemas.py): what the domain writes passes them, a
poison event is refused on every path before it is stored, and the API documentation publishes them."""

import uuid

import pytest
from temporalio.exceptions import ApplicationError

from eventstore.errors import InvalidEvent
from eventstore.events import ANY, NewEvent
from eventstore.models import Event
from eventstore.store import append_events
from eventstore.temporal.activities import append_events_activity
from eventstore.temporal.messages import AppendRequest, EventInput
from payments.domain import AGGREGATE_TYPE, CommandType, PaymentAggregate, PaymentCommand
from payments.event_schemas import DATA_SCHEMAS, METADATA_SCHEMA
from tests.eventstore.command_activities import run_as_command

PROCESSED = {"payment_id": "payment-1", "organization_id": "org-1", "user_id": "user-1", "amount": "125.00",
             "currency": "EUR", "description": "Invoice 118"}
REFUNDED = {"payment_id": "payment-1", "user_id": "user-1", "amount": "25.00", "currency": "EUR",
            "refunded_total": "25.00", "description": ""}


def append(event_type: str, data: dict, metadata: dict | None = None):
    return append_events(stream_id="payment-1", aggregate_type=AGGREGATE_TYPE, expected_version=ANY,
                         events=[NewEvent(event_type, data, metadata or {})])


@pytest.mark.django_db
@pytest.mark.parametrize("currency, amount, refund", [
    ("EUR", "125.5", "0.5"), ("JPY", "1500", "1"), ("KWD", "12.345", "0.005"), ("CLF", "1.2345", "0.0001")],
    ids=["2 decimals", "no decimals", "3 decimals", "4 decimals"])
def test_every_event_the_domain_decides_is_accepted(currency, amount, refund):
    payment, cancelled = PaymentAggregate("payment-1"), PaymentAggregate("payment-2")
    for aggregate in (payment, cancelled):
        aggregate.execute(PaymentCommand(CommandType.CREATE, aggregate.payment_id, "org-1", "user-1", amount, currency))
    payment.execute(PaymentCommand(CommandType.REFUND, "payment-1", "org-1", "user-1", refund, currency))
    cancelled.execute(PaymentCommand(CommandType.CANCEL, "payment-2", "org-1", "user-1"))
    metadata = {"correlation_id": "c-1", "causation_id": "k-1", "command": "CREATE", "user_id": "user-1",
                "organization_id": "org-1", "workflow_id": "w", "run_id": "r", "schema_version": 1}

    for aggregate in (payment, cancelled):
        append_events(stream_id=aggregate.payment_id, aggregate_type=AGGREGATE_TYPE, expected_version=0,
                      events=[NewEvent(e.event_type, e.data, metadata) for e in aggregate.uncommitted_events])

    assert Event.objects.count() == 4


POISON = [
    ("the issue's event", "PaymentProcessed", {"amount": "1"}, {}, 'data: "payment_id" is a required property'),
    ("unknown event type", "PaymentSettled", PROCESSED, {}, "'PaymentSettled' is not one of them"),
    ("no organization", "PaymentProcessed", {**PROCESSED, "organization_id": None}, {}, "data.organization_id:"),
    ("amount as a number", "PaymentProcessed", {**PROCESSED, "amount": 125}, {}, "data.amount: 125 is not of type"),
    ("amount not a number", "PaymentProcessed", {**PROCESSED, "amount": "abc"}, {}, "data.amount: 'abc' is not valid"),
    ("zero amount", "PaymentProcessed", {**PROCESSED, "amount": "0.00"}, {}, "data.amount: '0.00' is not valid"),
    ("negative amount", "PaymentProcessed", {**PROCESSED, "amount": "-1.00"}, {}, "data.amount: '-1.00'"),
    ("too many decimals", "PaymentProcessed", {**PROCESSED, "amount": "1.001"}, {}, "data: Amounts are decimal"),
    ("too few decimals", "PaymentProcessed", {**PROCESSED, "amount": "1.5"}, {}, "data: Amounts are decimal"),
    ("yen with decimals", "PaymentProcessed", {**PROCESSED, "currency": "JPY"}, {}, "data: Amounts are decimal"),
    ("unknown currency", "PaymentProcessed", {**PROCESSED, "currency": "ABC"}, {}, "data: Amounts are decimal"),
    ("gold", "PaymentProcessed", {**PROCESSED, "currency": "XAU", "amount": "1"}, {}, "data: Amounts are decimal"),
    ("lower-case currency", "PaymentProcessed", {**PROCESSED, "currency": "eur"}, {}, "data.currency: 'eur'"),
    ("refund total in other units", "PaymentRefunded", {**REFUNDED, "refunded_total": "25"}, {}, "data: Amounts"),
    ("refund without total", "PaymentRefunded", {k: v for k, v in REFUNDED.items() if k != "refunded_total"}, {},
     '"refunded_total" is a required property'),
    ("payment id not a stream id", "PaymentProcessed", {**PROCESSED, "payment_id": "p 1"}, {}, "data.payment_id:"),
    ("description too long", "PaymentProcessed", {**PROCESSED, "description": "d" * 501}, {}, "data.description:"),
    ("correlation id a number", "PaymentProcessed", PROCESSED, {"correlation_id": 5}, "metadata.correlation_id: 5"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("label, event_type, data, metadata, message", POISON, ids=[case[0] for case in POISON])
def test_a_poison_event_is_refused_before_it_is_stored(label, event_type, data, metadata, message):
    with pytest.raises(InvalidEvent) as raised:
        append(event_type, data, metadata)
    assert message in str(raised.value)
    assert not Event.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_poison_event_sent_to_the_append_activity_by_the_command_workflow_is_refused():
    request = AppendRequest("payment-poison", AGGREGATE_TYPE,
                            [EventInput("PaymentProcessed", {"amount": "1"}, event_id=str(uuid.uuid4()))])

    with pytest.raises(ApplicationError) as raised:
        run_as_command(append_events_activity, request)

    assert raised.value.type == "InvalidEvent" and raised.value.non_retryable
    assert raised.value.message == 'events[0] (PaymentProcessed) data: "payment_id" is a required property'
    assert not Event.objects.exists()


def test_the_api_documentation_publishes_the_schemas(client):
    document = client.get("/api/schema/", {"format": "json"}).json()

    components = document["components"]["schemas"]
    for event_type, schema in DATA_SCHEMAS.items():
        published = dict(components[f"{event_type}Data"])
        assert published.pop("title") == f"Payment {event_type} data"
        assert published == schema
    assert {k: v for k, v in components["PaymentEventMetadata"].items() if k != "title"} == METADATA_SCHEMA
    assert "`PaymentProcessedData`" in components["Event"]["properties"]["data"]["description"]
