"""Who acted, through each channel (invariant 9): the events of a command name the principal that
was authenticated where the command came in (an API token, a session, a management command), carried
through Temporal sealed; a plain Temporal client, whatever it claims, is recorded as what it is."""

import uuid
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from eventstore import selectors
from eventstore.actors import Actor
from eventstore.models import Event
from eventstore.temporal.actor_seals import seal_actor
from payments.models import ApiToken
from payments.tokens import key_digest

pytestmark = pytest.mark.django_db(transaction=True)

COMMANDS = "/api/payments/commands/"


def actors_of(payment_id: str) -> list[dict]:
    return [event.metadata["actor"] for event in selectors.read_stream(payment_id)]


def test_each_channel_records_its_actor_and_the_admin_history_shows_who(temporal, tenants, client, finance_user):
    payment_id = f"payment-{uuid.uuid4().hex[:10]}"
    alice = get_user_model().objects.get(username="alice")
    by_token = tenants.acme.post(COMMANDS, {"type": "CREATE", "payment_id": payment_id, "organization_id": "org-acme",
                                            "amount": "100.00", "currency": "EUR"}, format="json")
    assert by_token.status_code == 201, by_token.json()
    in_session = APIClient()
    in_session.force_login(alice)
    by_session = in_session.post(COMMANDS, {"type": "REFUND", "payment_id": payment_id, "organization_id": "org-acme",
                                            "amount": "10.00"}, format="json")
    assert by_session.status_code == 201, by_session.json()
    call_command("payment_command", "REFUND", payment_id, "--organization", "org-acme", "--user", "alice",
                 "--amount", "5.00", stdout=StringIO())

    token, session, command = actors_of(payment_id)
    credential = ApiToken.objects.get(key_hash=key_digest(tenants.acme.api_key)).credential_id
    assert token == {"kind": "api_token", "id": str(alice.pk), "name": "alice", "channel": "api",
                     "credential": credential}
    assert session.pop("session")
    assert session == {"kind": "user", "id": str(alice.pk), "name": "alice", "channel": "api"}
    assert command == {"kind": "management_command", "id": "payment_command", "name": "payment_command",
                       "channel": "command_line"}
    assert {event.metadata["user_id"] for event in selectors.read_stream(payment_id)} == {"alice"}  # business data
    history = tenants.acme.get(f"/api/payments/{payment_id}/history/").json()["results"]
    assert [event["metadata"]["actor"]["kind"] for event in history] == ["api_token", "user", "management_command"]

    client.force_login(finance_user)
    page = client.get(f"/admin/payments/paymentsummary/{payment_id}/change/").content.decode()
    assert "api token, via api" in page and "user, via api, session " in page
    assert "management command, via command_line" in page


def test_an_api_body_cannot_name_the_actor(tenants):
    response = tenants.acme.post(COMMANDS, {
        "type": "CREATE", "organization_id": "org-acme", "amount": "100.00", "currency": "EUR",
        "actor": {"kind": "user", "id": "1", "name": "admin"}, "actor_seal": "v1.x.y"}, format="json")

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"actor", "actor_seal"} and "cannot name one" in fields["actor"]
    assert not Event.objects.exists()


def test_a_plain_client_with_a_forged_or_copied_seal_is_recorded_as_a_temporal_client(plain_temporal, temporal):
    """Seals open only for the workflow they were made for, unaltered and unexpired."""
    admin = Actor(kind="user", id="1", name="admin", channel="admin")
    copied = seal_actor(admin, workflow_id="payment-command:org-acme:someone-elses-key")
    expired = seal_actor(admin, workflow_id="plain-expired", max_age_seconds=-1)
    for workflow_id, seal in (("plain-copied", copied), ("plain-forged", "v1.e30.forged"), ("plain-expired", expired)):
        payment_id = f"payment-{uuid.uuid4().hex[:10]}"
        result = plain_temporal("PaymentEventSourcingWorkflow", {
            "type": "CREATE", "payment_id": payment_id, "organization_id": "org-acme", "user_id": "admin",
            "amount": "1.00", "currency": "EUR", "actor_seal": seal}, workflow_id=f"{workflow_id}-{payment_id}")

        assert result["success"], result
        assert actors_of(payment_id) == [{"kind": "temporal_client", "id": temporal.client.identity,
                                          "channel": "temporal"}], workflow_id

