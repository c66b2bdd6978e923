"""API tokens as credentials: several per user, each narrowed to some of the user's organizations and
to roles, expiring, revocable at once, kept only as a hash; made in the admin (the key shown once) and
with `create_api_token`; the keys of the former one-per-user tokens carried over."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.migrations import RunPython
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from eventstore.events import ANY, NewEvent
from eventstore.store import append_events
from payments import tokens
from payments.models import ApiToken, Membership, Organization, PaymentSummary
from tests.eventstore.helpers import payment_data
from tests.migration_operations import migration_operation


def member_of(username: str, *organizations: str, **extra):
    user = get_user_model().objects.create_user(username, password="pw", **extra)
    for organization_id in organizations:
        organization, _ = Organization.objects.get_or_create(id=organization_id, defaults={"name": organization_id})
        Membership.objects.create(user=user, organization=organization)
    return user


def client_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def summary(payment_id: str, organization_id: str) -> PaymentSummary:
    now = timezone.now()
    return PaymentSummary.objects.create(
        payment_id=payment_id, organization_id=organization_id, user_id="alice", amount=Decimal("5.00"),
        currency="EUR", status="PROCESSED", created_at=now, updated_at=now, version=1, last_position=1)


def command(organization_id: str) -> dict:
    return {"type": "CREATE", "organization_id": organization_id, "amount": "5.00", "currency": "EUR"}


@pytest.mark.django_db(transaction=True)
def test_a_token_sees_only_its_organizations_in_payments_events_and_feed():
    alice = member_of("alice", "org-a", "org-b")
    narrow = client_with(tokens.issue_api_token(user=alice, name="a only", organization_ids=["org-a"]).key)
    wide = client_with(tokens.issue_api_token(user=alice, name="all", all_organizations=True).key)
    for organization in ("org-a", "org-b"):
        summary(f"payment-{organization}", organization)
        append_events(stream_id=f"payment-{organization}", aggregate_type="Payment", expected_version=ANY, events=[
            NewEvent("PaymentProcessed", payment_data("PaymentProcessed", "5.00", f"payment-{organization}"),
                     {"organization_id": organization})])

    def seen(client) -> list[set]:
        pages = [client.get("/api/payments/"), client.get("/api/events/"), client.get("/api/feed/")]
        assert all(page.status_code == 200 for page in pages), [page.content for page in pages]
        return [{row.get("organization_id") or row["metadata"]["organization_id"] for row in page.json()["results"]}
                for page in pages]

    assert seen(narrow) == [{"org-a"}] * 3
    assert seen(wide) == [{"org-a", "org-b"}] * 3
    assert narrow.get("/api/events/", {"organization_id": "org-b"}).json()["results"] == []
    assert narrow.get("/api/payments/payment-org-b/").status_code == 404
    refused = narrow.post("/api/payments/commands/", command("org-b"), format="json")
    assert refused.status_code == 403 and "org-b" in refused.json()["error"]["message"]
    Membership.objects.filter(user=alice, organization_id="org-a").delete()  # a membership ended: so did the view
    assert seen(narrow) == [set()] * 3


@pytest.mark.django_db
def test_roles_a_read_token_reads_and_is_refused_commands_naming_the_role_needed():
    bob = member_of("bob", "org-a")
    reader = client_with(tokens.issue_api_token(user=bob, name="reader", roles=["read"], organization_ids=["org-a"]).key)
    approver = tokens.issue_api_token(user=bob, name="approver", roles=["approve"], organization_ids=["org-a"]).token

    assert reader.get("/api/payments/").status_code == 200
    answer = reader.post("/api/payments/commands/", command("org-a"), format="json")
    assert answer.status_code == 403
    message = answer.json()["error"]["message"]
    assert "has the role read" in message and "needs the role submit" in message
    assert reader.post("/api/webhooks/", {"url": "https://example.com/hook"}, format="json").status_code == 403
    assert tokens.allows(approver, "approve") and tokens.allows(approver, "read")
    assert not tokens.allows(approver, "submit")


@pytest.mark.django_db
def test_expired_revoked_and_unknown_keys_get_401_saying_which_and_revocation_takes_effect_at_once():
    carol = member_of("carol", "org-a")
    issued = tokens.issue_api_token(user=carol, name="ci", organization_ids=["org-a"])
    client = client_with(issued.key)
    assert client.get("/api/payments/").status_code == 200

    tokens.revoke_api_tokens(ApiToken.objects.filter(pk=issued.token.pk))
    revoked = client.get("/api/payments/")
    ApiToken.objects.filter(pk=issued.token.pk).update(revoked_at=None, expires_at=timezone.now() - timedelta(seconds=1))
    expired = client.get("/api/payments/")
    unknown = client_with(issued.key + "x").get("/api/payments/")

    assert revoked.status_code == expired.status_code == unknown.status_code == 401
    assert "was revoked on" in revoked.json()["error"]["message"] and issued.token.prefix in revoked.json()["error"]["message"]
    assert "expired on" in expired.json()["error"]["message"]
    assert "no API token has this key" in unknown.json()["error"]["message"]
    with pytest.raises(ValueError, match="no member of org-b"):
        tokens.issue_api_token(user=carol, name="wider", organization_ids=["org-b"])


@pytest.mark.django_db
def test_a_key_is_kept_only_as_its_hash_its_use_marked_once_a_minute_in_two_queries():
    dave = member_of("dave", "org-a")
    issued = tokens.issue_api_token(user=dave, name="billing", organization_ids=["org-a"])
    assert issued.key.startswith(issued.token.credential_id + "_") and len(issued.key) > 50
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM payments_apitoken")
        row = " ".join(map(str, cursor.fetchone()))
    assert issued.key not in row and issued.key.split("_")[-1] not in row
    assert tokens.key_digest(issued.key) in row

    client = client_with(issued.key)
    with CaptureQueriesContext(connection) as first:
        assert client.get("/api/payments/").status_code == 200
    used = ApiToken.objects.get(pk=issued.token.pk).last_used_at
    assert used is not None
    with CaptureQueriesContext(connection) as second:
        client.get("/api/payments/")
    assert ApiToken.objects.get(pk=issued.token.pk).last_used_at == used  # within the minute: not written again
    token_queries = [q["sql"] for q in second.captured_queries
                     if "payments_apitoken" in q["sql"] or "payments_organization" in q["sql"]]
    assert len(token_queries) <= 2, token_queries
    assert any(q["sql"].startswith("UPDATE") and "last_used_at" in q["sql"] for q in first.captured_queries)


@pytest.mark.django_db
def test_the_admin_shows_the_key_once_and_staff_see_only_their_own_tokens(client):
    erin = member_of("erin", "org-a", is_staff=True)
    other = tokens.issue_api_token(user=member_of("frank", "org-a"), name="frank's", organization_ids=["org-a"]).token
    client.force_login(erin)
    form = client.get("/admin/payments/apitoken/add/")
    assert form.status_code == 200 and "user" not in form.context["adminform"].form.fields  # hers, no one else's
    expires = (timezone.now() + timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")
    page = client.post("/admin/payments/apitoken/add/", {
        "name": "reports", "organizations": ["org-a"], "roles": ["read"], "expires_at": expires})

    assert page.status_code == 200, page.content
    token = ApiToken.objects.get(name="reports")
    key = page.context["key"]
    assert token.user == erin and token.roles == ["read"] and tokens.key_digest(key) == token.key_hash
    assert key in page.content.decode()
    listing = client.get("/admin/payments/apitoken/").content.decode()
    change = client.get(f"/admin/payments/apitoken/{token.pk}/change/").content.decode()
    assert key not in listing and key not in change and token.prefix in listing
    assert other.prefix not in listing
    assert client.get(f"/admin/payments/apitoken/{other.pk}/change/").status_code in (302, 403, 404)
    client.post("/admin/payments/apitoken/", {"action": "revoke", "_selected_action": [token.pk, other.pk]})
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert ApiToken.objects.get(pk=other.pk).revoked_at is None  # not hers


@pytest.mark.django_db
def test_create_api_token_prints_a_new_key_each_time_with_its_scope_and_roles():
    out = io.StringIO()
    call_command("create_api_token", "gina", "--create-user", "--organization", "org-g", "--role", "approve",
                 "--name", "approvals", "--expires", "7", stdout=out, stderr=io.StringIO())
    key = out.getvalue().strip()
    token = ApiToken.objects.get(key_hash=tokens.key_digest(key))
    assert (token.name, token.roles, token.all_organizations) == ("approvals", ["approve"], False)
    assert list(token.organizations.values_list("id", flat=True)) == ["org-g"]
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)

    again = io.StringIO()
    call_command("create_api_token", "gina", "--rotate", "--name", "approvals", stdout=again, stderr=io.StringIO())
    assert again.getvalue().strip() != key
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    newest = ApiToken.objects.get(key_hash=tokens.key_digest(again.getvalue().strip()))
    assert newest.roles == ["read", "submit"] and newest.all_organizations
    assert client_with(key).get("/api/payments/").status_code == 401


@pytest.mark.django_db
def test_keys_of_the_former_one_per_user_tokens_keep_working_and_leave_no_clear_copy():
    hana = member_of("hana", "org-h")
    olga = get_user_model().objects.create_user("olga")
    old_keys = {"hana": "a" * 40, "olga": "b" * 40}
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz NOT NULL,"
                       " user_id integer NOT NULL)")
        cursor.executemany("INSERT INTO authtoken_token VALUES (%s, now(), %s)",
                           [(old_keys["hana"], hana.pk), (old_keys["olga"], olga.pk)])
    carry_over = migration_operation("payments", "api_tokens", RunPython).code

    with connection.schema_editor() as editor:
        carry_over(django_apps, editor)

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
    carried = ApiToken.objects.get(user=hana)
    assert (carried.name, carried.roles, carried.all_organizations) == ("migrated", ["read", "submit"], False)
    assert list(carried.organizations.values_list("id", flat=True)) == ["org-h"]
    assert ApiToken.objects.get(user=olga).all_organizations  # a user of no organization keeps a token as wide
    assert client_with(old_keys["hana"]).get("/api/payments/").status_code == 200
