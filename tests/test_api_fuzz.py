"""Property-based fuzzing of the whole API from its own OpenAPI schema: no input makes it answer 500,
and every response conforms to the schema. Bounded: a few hundred cases."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from config.wsgi import application

pytestmark = pytest.mark.fuzz

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
token: dict[str, str] = {}


@pytest.fixture
def operator_token(temporal, api_client_for):
    from rest_framework.authtoken.models import Token

    api_client_for("fuzzer", "org-acme", operator=True)
    token["value"] = Token.objects.get(user__username="fuzzer").key


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_input_makes_the_api_fail(case, operator_token):
    response = case.call(headers={"Authorization": f"Token {token['value']}"})
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance, status_code_conformance])
