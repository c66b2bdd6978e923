"""Property-based fuzzing of the whole API from its own OpenAPI schema: no input makes it answer 500,
every response conforms to the schema, and every request the schema calls valid is accepted (no 400
or 422). Bounded: a few hundred cases."""

from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application

pytestmark = pytest.mark.fuzz

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
token: dict[str, str] = {}


@pytest.fixture
def operator_token(temporal, api_client_for):
    token["value"] = api_client_for("fuzzer", "org-acme", operator=True).api_key


def follow_the_range_rule(query):
    """The one rule the schema states in words because JSON Schema cannot relate two parameters:
    `from` before `to`, and not too far apart (the analytics range and trend buckets). Follow it."""
    if not query or "from" not in query or "to" not in query:
        return query
    since = _utc(query["from"])
    if since is None:
        return query
    if since > datetime.max.replace(tzinfo=UTC) - timedelta(days=1):
        since -= timedelta(days=1)
        query["from"] = since.isoformat()
    query["to"] = (since + timedelta(hours=1)).isoformat()
    return query


def _utc(text) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC) if moment.year == 1 else datetime.max.replace(tzinfo=UTC)


def follow_the_consistency_rule(query):
    """A consistency proof runs from a smaller tree to a larger one: `first` at most `second`."""
    try:
        first, second = int(query["first"]), int(query["second"])
    except (TypeError, KeyError, ValueError):
        return query
    if first > second:
        query["first"], query["second"] = query["second"], query["first"]
    return query


def follow_the_business_time_rule(body):
    """A command's `occurred_at` may not lie in the future (the schema says so in words: the clock
    is not JSON Schema's to know): move a later one to now."""
    if not isinstance(body, dict) or "occurred_at" not in body:
        return body
    moment = _utc(body["occurred_at"])
    if moment is not None and moment > datetime.now(UTC):
        body["occurred_at"] = datetime.now(UTC).isoformat()
    return body


SETTLEMENT_FILE = (b"reference,kind,gross,fee,net,currency,booking_date,payout_id\n"
                   b"payment-fuzz-1,charge,10.00,0.20,9.80,EUR,2026-11-02,po_1\n")


def follow_the_settlement_rule(case):
    """What a settlement file holds is the README's to say, not JSON Schema's: import a readable one,
    for an organization that exists, over a period that ends after it starts."""
    positive = case.meta is None or case.meta.generation.mode.is_positive
    if case.method != "POST" or case.path != "/api/reconciliations/" or not isinstance(case.body, dict) or not positive:
        return
    body = {"file": SETTLEMENT_FILE, "organization_id": "org-acme", "mapping": "auto"}
    period = [case.body.get("period_start"), case.body.get("period_end")]
    if all(isinstance(day, str) for day in period):
        body.update(zip(("period_start", "period_end"), sorted(period)))
    case.body = body


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_input_makes_the_api_fail(case, operator_token):
    case.query = follow_the_consistency_rule(follow_the_range_rule(case.query))
    case.body = follow_the_business_time_rule(case.body)
    follow_the_settlement_rule(case)
    response = case.call(headers={"Authorization": f"Token {token['value']}"})
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance, status_code_conformance,
                                             positive_data_acceptance])
