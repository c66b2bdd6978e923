"""The API plumbing every app's views share (eventstore/api/): the error format for paths and methods
that name no endpoint, messages without DRF's wrapping, the Token scheme named to other schemes, one
pagination vocabulary, and an OpenAPI schema that states what the server enforces."""

import pytest
from rest_framework.test import APIClient

from eventstore.web import pagination

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(api_client_for):
    return api_client_for("alice", "org-acme")


@pytest.mark.parametrize("method, path, status, message", [
    ("get", "/api/nope/", 404, "No endpoint at /api/nope/; the endpoints are listed at /api/schema/."),
    ("post", "/api/payments/commands", 404,
     "No endpoint at /api/payments/commands; did you mean /api/payments/commands/? API paths end with a slash."),
    ("get", "/api/payments/x/y/z/", 404, "No endpoint at /api/payments/x/y/z/; the endpoints are listed at /api/schema/."),
    ("delete", "/api/payments/", 405, 'Method "DELETE" not allowed.'),
    ("put", "/api/payments/commands/", 405, 'Method "PUT" not allowed.'),
    ("purge", "/api/events/", 405, 'Method "PURGE" not allowed.'),
])
def test_unknown_paths_and_methods_answer_in_the_error_format(alice, method, path, status, message):
    response = alice.generic(method.upper(), path, '{"type": "CREATE"}', content_type="application/json")

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": {"status": status, "code": "not_found" if status == 404 else "method_not_allowed",
                                         "message": message}}


def test_error_messages_are_the_errors_own_text(alice):
    """DRF wraps an error's text as {"detail": ...}; the message is the text alone."""
    answers = [alice.get("/api/payments/no-such-payment/"), alice.delete("/api/events/"),
               alice.get("/api/metrics/workflows/")]

    messages = [answer.json()["error"]["message"] for answer in answers]
    assert messages[0] == "Not found."
    assert messages[1] == 'Method "DELETE" not allowed.'
    assert messages[2].startswith("Workflow metrics cover every organization")
    assert not any(message.startswith("detail") for message in messages)


def test_a_bearer_token_is_told_to_use_the_token_scheme(api_client_for):
    key = api_client_for("alice", "org-acme").api_key
    bearer, anonymous = APIClient(), APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    refused, unauthenticated = bearer.get("/api/payments/"), anonymous.get("/api/payments/")

    assert refused.status_code == unauthenticated.status_code == 401
    assert refused["WWW-Authenticate"] == "Token"
    assert refused.json()["error"]["code"] == "authentication_failed"
    assert "'Bearer'" in refused.json()["error"]["message"]
    for answer in (refused, unauthenticated):
        assert "Authorization: Token <key>" in answer.json()["error"]["message"]


def test_cursors_of_the_stated_format_name_a_place_and_round_trip():
    assert pagination.position_of(pagination.position_cursor(123456789)) == 123456789
    assert pagination.position_of(None) == 0
    from datetime import UTC, datetime

    moment = datetime(2026, 11, 26, 15, 8, 22, 123456, tzinfo=UTC)
    place = pagination.time_key_place(pagination.time_key_cursor(moment, "payment-a:b@c.d_e"))
    assert (place.time, place.key) == (moment, "payment-a:b@c.d_e")
    latest = pagination.time_key_place("t" + "f" * 15 + ".78")  # past the last datetime: still a place
    assert (latest.time, latest.key) == (datetime.max.replace(tzinfo=UTC), "x")
    assert pagination.time_key_place("t0.ff00").key == "\ufffd\ufffd"  # no UTF-8, a NUL: still a place


def test_the_schema_states_the_limits_the_server_enforces(client):
    schema = client.get("/api/schema/?format=json").json()
    parameters = {(path, parameter["name"]): parameter for path, item in schema["paths"].items()
                  for operation in item.values() for parameter in operation.get("parameters", [])}

    for path in ("/api/payments/", "/api/events/"):
        limit = parameters[(path, "limit")]["schema"]
        assert (limit["minimum"], limit["maximum"]) == (1, pagination.MAX_LIMIT)
        assert parameters[(path, "cursor")]["schema"]["pattern"].startswith("^")
    assert parameters[("/api/payments/", "max_amount")]["schema"]["pattern"] == r"^[0-9]{1,15}(\.[0-9]{1,3})?$"
    assert "`from` must be before `to`" in parameters[("/api/events/", "from")]["description"]
    assert "at most 731 days apart" in parameters[("/api/analytics/statistics/", "to")]["description"]
    assert "Europe/Paris" in parameters[("/api/analytics/trends/", "time_zone")]["schema"]["enum"]
    assert parameters[("/api/payments/{payment_id}/state/", "version")]["schema"]["maximum"] == 2**31 - 1

    command = schema["components"]["schemas"]["PaymentCommandRequest"]
    assert [rule["title"] for rule in command["oneOf"]] == ["CREATE", "REFUND", "CANCEL"]
    yen = next(rule for rule in command["oneOf"][0]["anyOf"] if "JPY" in rule["properties"]["currency"]["pattern"])
    assert yen["properties"]["amount"]["pattern"] == "^[1-9][0-9]{0,10}$"


def test_the_schema_examples_are_realistic(client):
    schema = client.get("/api/schema/?format=json").json()
    examples = schema["paths"]["/api/payments/commands/"]["post"]["requestBody"]["content"]["application/json"]["examples"]

    create = next(example["value"] for example in examples.values() if example["value"]["type"] == "CREATE")
    assert (create["amount"], create["currency"], create["organization_id"]) == ("125.00", "EUR", "org-456")
    assert "payment_id" not in create  # the recommended form: the server generates it
    for example in examples.values():
        assert example["value"].get("amount", "1") not in ("string", "")
