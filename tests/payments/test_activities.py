"""Payment activities run directly, as the worker runs them, with the SDK's ActivityEnvironment."""

import uuid

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from eventstore.events import NO_STREAM, NewEvent
from eventstore.store import append_events
from payments.activities import load_payment, query_history
from payments.messages import HistoryQuery, LoadPaymentRequest

pytestmark = pytest.mark.django_db(transaction=True)


def created(payment_id: str, command_id: str) -> list[str]:
    event = NewEvent("PaymentProcessed", {"payment_id": payment_id, "amount": "10.00", "currency": "EUR",
                                          "organization_id": "org-1", "user_id": "u-1", "description": ""},
                     {"causation_id": command_id, "organization_id": "org-1"})
    append_events(stream_id=payment_id, aggregate_type="Payment", events=[event], expected_version=NO_STREAM)
    return [str(event.event_id)]


def test_load_payment_reports_the_events_its_command_already_appended():
    event_ids = created("payment-act-1", "command-1")

    again = ActivityEnvironment().run(load_payment, LoadPaymentRequest("payment-act-1", "command-1"))
    other = ActivityEnvironment().run(load_payment, LoadPaymentRequest("payment-act-1", "command-2"))

    assert [event.event_id for event in again.applied] == event_ids
    assert again.applied[0].stream_id == "payment-act-1" and again.applied[0].version == 1
    assert again.state_after_applied["version"] == 1
    assert other.applied == [] and other.state_after_applied is None
    assert other.state["version"] == 1


def test_history_of_a_payment_pages_by_version():
    created("payment-act-2", "command-1")

    answer = ActivityEnvironment().run(query_history, HistoryQuery("history", payment_id="payment-act-2"))

    assert [(event.stream_id, event.version, event.event_type) for event in answer.events] == [
        ("payment-act-2", 1, "PaymentProcessed")]
    assert answer.events[0].recorded_at and answer.events[0].transaction_id > 0
    assert answer.next_after_position is None


@pytest.mark.parametrize("query", [
    HistoryQuery("history", payment_id="not a valid id!"),
    HistoryQuery("search", since="yesterday"),
    HistoryQuery("search", until="2026-01-01T00:00:00"),  # no offset
    HistoryQuery("nonsense"),
], ids=["bad payment id", "unparsable time", "naive time", "unknown operation"])
def test_bad_queries_fail_at_once_and_for_good(query):
    with pytest.raises(ApplicationError) as failure:
        ActivityEnvironment().run(query_history, query)
    assert failure.value.non_retryable
    assert failure.value.type == "InvalidQuery"


def test_an_unknown_payment_has_no_events_and_no_state():
    loaded = ActivityEnvironment().run(load_payment, LoadPaymentRequest(f"payment-{uuid.uuid4().hex}", "c"))
    assert loaded.applied == [] and loaded.state["version"] == 0
