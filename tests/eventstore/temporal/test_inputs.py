"""Decoding workflow inputs strictly (eventstore/temporal/inputs.py): what is accepted, and that
every refusal names the field. The workflows' own behaviour with plain clients is tested beside
each workflow (tests/*/test_workflows.py)."""

import json

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.exceptions import ApplicationError

from analytics.messages import AnalyticsRequest
from eventstore import registry
from eventstore.temporal.inputs import INVALID_INPUT, MAX_INPUT_DEPTH, InputError, data_converter, decode_input
from eventstore.temporal.messages import AppendRequest, EventInput, EventStoreRequest, RebuildRequest
from payments.messages import HistoryQuery, PaymentCommandRequest

SEED_COMMAND = {"type": "CREATE", "payment_id": "payment-123", "organization_id": "org-456", "user_id": "user-789",
                "amount": 100.00, "currency": "EUR", "description": "Test payment"}


def test_the_seed_command_with_a_json_number_amount_is_read_from_its_shortest_decimal_text():
    decoded = decode_input(PaymentCommandRequest, json.loads(json.dumps(SEED_COMMAND)))
    assert decoded == PaymentCommandRequest("CREATE", "payment-123", "org-456", "user-789", "100.0", "EUR",
                                            "Test payment")
    assert decode_input(PaymentCommandRequest, {**SEED_COMMAND, "amount": 1500}).amount == "1500"
    assert decode_input(PaymentCommandRequest, {**SEED_COMMAND, "amount": 0.1 + 0.2}).amount == "0.30000000000000004"


def test_nested_inputs_decode_into_their_dataclasses_and_null_stands_for_absent():
    decoded = decode_input(EventStoreRequest, {
        "operation": "append", "get_events": None,
        "append": {"stream_id": "s", "aggregate_type": "A", "expected_version": 3,
                   "events": [{"event_type": "E", "data": {"x": [1, {"y": None}]}, "event_id": None}]},
    })
    assert decoded == EventStoreRequest("append", append=AppendRequest(
        "s", "A", [EventInput("E", {"x": [1, {"y": None}]})], expected_version="3"))
    assert decode_input(list[RebuildRequest], [{"projection": "p", "batch_size": 10.0}]) == [RebuildRequest("p", False, 10)]


REFUSED = [
    ("misspelled key", EventStoreRequest, {"operation": "append", "append": {
        "stream_id": "s", "aggregate_type": "A", "events": [{"eventType": "E", "data": {}}]}},
     "Input field 'append.events[0].eventType' is not a field of EventInput; did you mean 'event_type'?"),
    ("misspelled optional key", EventStoreRequest, {"operation": "append", "append": {
        "stream_id": "s", "aggregate_type": "A", "events": [], "expectedVersion": "no_stream"}},
     "Input field 'append.expectedVersion' is not a field of AppendRequest; did you mean 'expected_version'?"),
    ("unknown key", PaymentCommandRequest, {**SEED_COMMAND, "colour": "red"},
     "Input field 'colour' is not a field of PaymentCommandRequest; its fields are type, payment_id,"),
    ("missing field", PaymentCommandRequest, {k: v for k, v in SEED_COMMAND.items() if k != "user_id"},
     "Input field 'user_id' is required (PaymentCommandRequest needs type, payment_id, organization_id, user_id)."),
    ("null required field", PaymentCommandRequest, {**SEED_COMMAND, "type": None}, "Input field 'type' is required"),
    ("boolean amount", PaymentCommandRequest, {**SEED_COMMAND, "amount": True},
     "Input field 'amount' must be a decimal string such as \"100.00\" or a JSON number, not a boolean."),
    ("number as text", PaymentCommandRequest, {**SEED_COMMAND, "organization_id": 456},
     "Input field 'organization_id' must be text, not a number."),
    ("not an object", PaymentCommandRequest, ["CREATE"], "The input must be a JSON object with the fields of"),
    ("fraction for an integer", EventStoreRequest, {"operation": "get_events", "get_events": {
        "stream_id": "s", "limit": 2.5}}, "Input field 'get_events.limit' must be an integer, not a number 2.5."),
    ("below the minimum", EventStoreRequest, {"operation": "get_events", "get_events": {
        "stream_id": "s", "limit": 0}}, "Input field 'get_events.limit' must be at least 1, not 0."),
    ("data not an object", EventStoreRequest, {"operation": "append", "append": {
        "stream_id": "s", "aggregate_type": "A", "events": [{"event_type": "E", "data": "x"}]}},
     "Input field 'append.events[0].data' must be a JSON object, not text."),
    ("time without offset", HistoryQuery, {"operation": "search", "since": "2026-01-01T00:00:00"},
     "Input field 'since' must be an ISO 8601 date and time with an offset"),
    ("time as a number", AnalyticsRequest, {"operation": "trends", "event_type": "E", "since": 1767225600,
                                            "until": "2026-02-01T00:00:00Z"},
     "Input field 'since' must be text, not a number."),
    ("boolean for a number", list[RebuildRequest], [{"projection": "p", "batch_size": True}],
     "Input field '[0].batch_size' must be an integer, not a boolean."),
]


@pytest.mark.parametrize("label, hint, value, message", REFUSED, ids=[case[0] for case in REFUSED])
def test_what_cannot_be_decoded_is_refused_naming_the_field(label, hint, value, message):
    with pytest.raises(InputError) as raised:
        decode_input(hint, value)
    assert str(raised.value).startswith(message)


def test_free_form_data_nests_at_most_the_input_depth():
    def request(levels):
        return {"operation": "append", "append": {"stream_id": "s", "aggregate_type": "A", "events": [
            {"event_type": "E", "data": json.loads('{"a":' * (levels - 1) + "{}" + "}" * (levels - 1))}]}}

    decode_input(EventStoreRequest, request(MAX_INPUT_DEPTH))
    with pytest.raises(InputError, match=f"'append.events\\[0\\].data' nests objects and arrays deeper than {MAX_INPUT_DEPTH}"):
        decode_input(EventStoreRequest, request(MAX_INPUT_DEPTH + 1))


def payload(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


def test_the_converter_turns_refusals_into_final_application_errors_for_declared_inputs_only():
    converter = data_converter(registry.workflows()).payload_converter

    with pytest.raises(ApplicationError) as raised:
        converter.from_payloads([payload('{"type": "CREATE"}')], [PaymentCommandRequest])
    assert raised.value.type == INVALID_INPUT and raised.value.non_retryable
    assert raised.value.details == ("payment_id",)
    with pytest.raises(ApplicationError, match="The input is not JSON that can be read"):
        converter.from_payloads([payload('{"amount": 1' + "0" * 5000 + "}")], [PaymentCommandRequest])
    with pytest.raises(ApplicationError, match="The input is not JSON that can be read"):
        converter.from_payloads([payload("[" * 100_000)], [EventStoreRequest])
    assert converter.from_payloads([payload('{"a": 1}')], [dict]) == [{"a": 1}]  # not a workflow input
