"""A payment id in its short form ("walk-1", the payment "payment-walk-1") through every entry point:
made canonical where it enters, it is answered in its canonical form."""

import uuid
from io import StringIO

import pytest
from django.core.management import call_command

from payments.domain import CommandRejected, require_canonical_payment_id
from payments.messages import HistoryQuery, PaymentCommandRequest

pytestmark = pytest.mark.django_db(transaction=True)

COMMANDS = "/api/payments/commands/"


@pytest.fixture
def short_id() -> str:
    return f"walk-{uuid.uuid4().hex[:8]}"


def test_the_messages_hold_the_canonical_form_and_leave_what_is_no_id_to_be_refused(short_id):
    assert PaymentCommandRequest("REFUND", short_id, "org-1", "u-1").payment_id == f"payment-{short_id}"
    assert HistoryQuery("history", payment_id=short_id).payment_id == f"payment-{short_id}"
    assert PaymentCommandRequest("CREATE", "", "org-1", "u-1").payment_id == ""
    assert PaymentCommandRequest("REFUND", "a b", "org-1", "u-1").payment_id == "a b"
    assert HistoryQuery("search").payment_id is None


@pytest.mark.parametrize("payment_id, refusal", [
    ("a b", "The payment id 'a b' is not valid"),
    ("walk-1", "The payment id 'walk-1' is not in its canonical form, payment-walk-1."),
])
def test_past_the_entry_points_an_id_not_canonical_is_refused(payment_id, refusal):
    assert require_canonical_payment_id("payment-walk-1") == "payment-walk-1"
    with pytest.raises(CommandRejected, match=refusal):
        require_canonical_payment_id(payment_id)


def test_an_api_command_body(temporal, tenants, short_id):
    body = {"payment_id": short_id, "organization_id": "org-acme", "currency": "EUR"}
    created = tenants.acme.post(COMMANDS, {**body, "type": "CREATE", "amount": "10.00"}, format="json")
    refunded = tenants.acme.post(COMMANDS, {**body, "type": "REFUND", "amount": "1.00"}, format="json")

    assert (created.status_code, refunded.status_code) == (201, 201), refunded.json()
    assert created.json()["payment_id"] == refunded.json()["payment_id"] == f"payment-{short_id}"
    assert refunded.json()["version"] == 2


def test_an_api_path(tenants, run_command, command_request, short_id):
    run_command(command_request(payment_id=f"payment-{short_id}", organization_id="org-acme", user_id="alice"))

    detail = tenants.acme.get(f"/api/payments/{short_id}/")
    history = tenants.acme.get(f"/api/payments/{short_id}/history/")
    state = tenants.acme.get(f"/api/payments/{short_id}/state/", {"version": 1})

    assert (detail.status_code, history.status_code, state.status_code) == (200, 200, 200)
    assert detail.json()["payment_id"] == state.json()["payment_id"] == f"payment-{short_id}"
    assert [event["version"] for event in history.json()["results"]] == [1]
    assert tenants.acme.get("/api/payments/no%20id/").status_code == 404


def test_a_temporal_client_input(plain_temporal, short_id):
    command = {"type": "CREATE", "payment_id": short_id, "organization_id": "org-456", "user_id": "user-789",
               "amount": "3.00", "currency": "EUR"}

    result = plain_temporal("PaymentEventSourcingWorkflow", command)
    answer = plain_temporal("PaymentHistoryQueryWorkflow", {"operation": "history", "payment_id": short_id})

    assert result["success"] and result["payment_id"] == f"payment-{short_id}"
    assert [event["stream_id"] for event in answer["events"]] == [f"payment-{short_id}"]


def test_a_python_client_input_is_one_request_in_either_form(run_command, command_request, short_id):
    key = f"key-{uuid.uuid4()}"
    first = run_command(command_request(payment_id=short_id, idempotency_key=key))
    again = run_command(command_request(payment_id=f"payment-{short_id}", idempotency_key=key))

    assert first.payment_id == again.payment_id == f"payment-{short_id}"
    assert again.replayed and again.event_ids == first.event_ids


def test_a_management_command_argument(temporal, short_id):
    out = StringIO()
    call_command("payment_command", "CREATE", short_id, "--organization", "org-456", "--user", "user-789",
                 "--amount", "5.00", "--currency", "EUR", stdout=out)
    assert f"payment payment-{short_id} at version 1" in out.getvalue()


def test_an_admin_url(admin_client, run_command, command_request, short_id):
    run_command(command_request(payment_id=f"payment-{short_id}"))

    page = admin_client.get(f"/admin/payments/paymentsummary/{short_id}/change/")

    assert page.status_code == 200
    assert page.context["payment"].payment_id == f"payment-{short_id}"
