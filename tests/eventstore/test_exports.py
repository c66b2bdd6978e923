"""Who took data out: every export (an admin list as CSV, a period statement in any form, an audit
bundle from the admin or the command line) is a DataExported event in the trail naming the exporter,
the credential, the filters, the rows and the organizations; auditors read them in the admin."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from eventstore.events import ANY, NewEvent
from eventstore.ledger import service as ledger
from eventstore.models import DataExport
from eventstore.store import append_events
from payments.models import ApiToken, PaymentSummary
from tests.eventstore.helpers import payment_data


def last_export() -> DataExport:
    return DataExport.objects.order_by("-position").first()


def exports_count() -> int:
    return DataExport.objects.count()


def summaries(organization_id: str, *statuses: str) -> None:
    now = timezone.now()
    for index, status in enumerate(statuses):
        PaymentSummary.objects.create(
            payment_id=f"payment-{organization_id}-{index}", organization_id=organization_id, user_id="alice",
            amount=Decimal("5.00"), currency="EUR", status=status, created_at=now, updated_at=now, version=1,
            last_position=1)


def paid(payment_id: str, organization_id: str) -> None:
    append_events(stream_id=payment_id, aggregate_type="Payment", expected_version=ANY, events=[
        NewEvent("PaymentProcessed", payment_data("PaymentProcessed", "5.00", payment_id),
                 {"organization_id": organization_id})])


def auditor() -> Client:
    """A staff member of the Auditor group, which holds view_dataexport (made again after a flush)."""
    if not Permission.objects.filter(codename="view_dataexport").exists():
        ContentType.objects.clear_cache()
        create_permissions(apps.get_app_config("eventstore"), verbosity=0)
    group, _ = Group.objects.get_or_create(name="Auditor")
    group.permissions.add(Permission.objects.get(codename="view_dataexport"))
    user = get_user_model().objects.create_user("audrey", password="pw", is_staff=True)
    user.groups.add(group)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_an_admin_csv_export_records_who_with_which_filters_how_many_rows_and_auditors_read_it(client):
    from tests.admin_users import finance_user

    fiona = finance_user(organizations=["org-a"])
    summaries("org-a", "PROCESSED", "PROCESSED", "CANCELLED")
    summaries("org-b", "PROCESSED")
    client.force_login(fiona)
    before = exports_count()

    answer = client.get("/admin/payments/paymentsummary/export.csv", {"status": "PROCESSED"})
    lines = b"".join(answer.streaming_content).decode().splitlines()

    assert len(lines) == 3 and exports_count() == before + 1  # header and 2 rows; one record
    export = last_export()
    assert export.data == {"kind": "admin_list", "source": "payments.paymentsummary", "format": "csv",
                           "filters": {"status": "PROCESSED"}, "row_count": 2, "complete": True,
                           "organizations": ["org-a"], "every_organization": False}
    assert export.metadata["actor"].pop("session")  # a digest of the admin session, never its key
    assert export.metadata["actor"] == {"kind": "user", "id": str(fiona.pk), "name": "fiona", "channel": "admin"}
    assert "organization_id" not in export.metadata  # no tenant sees who exported

    assert client.get("/admin/eventstore/dataexport/").status_code == 403  # finance staff are no auditors
    listing = auditor().get("/admin/eventstore/dataexport/")
    assert listing.status_code == 200
    assert "fiona" in listing.content.decode() and "payments.paymentsummary" in listing.content.decode()


@pytest.mark.django_db
def test_statements_record_each_form_with_the_token_that_took_them(client, api_client_for):
    from tests.admin_users import finance_user

    paid("payment-s1", "org-a")
    paid("payment-s2", "org-b")
    api = api_client_for("alice", "org-a")
    since, until = timezone.now() - timedelta(days=1), timezone.now() + timedelta(days=1)
    params = {"organization_id": "org-a", "from": since.isoformat(), "to": until.isoformat()}

    assert api.get("/api/analytics/statement/csv/", params).status_code == 200
    csv_export = last_export()
    assert api.get("/api/analytics/statement/", params).status_code == 200
    json_export = last_export()
    fiona = finance_user(organizations=["org-a"])
    client.force_login(fiona)
    query = {"organization": "org-a", "start": since.date().isoformat(), "end": until.date().isoformat()}
    assert client.get("/admin/analytics/statement/", {**query, "download": "csv"}).status_code == 200
    admin_export = last_export()

    token = ApiToken.objects.get(user__username="alice")
    assert csv_export.data["kind"] == "statement" and csv_export.data["format"] == "csv"
    assert csv_export.data["row_count"] == 1 and csv_export.data["organizations"] == ["org-a"]
    assert csv_export.data["filters"]["organization_id"] == "org-a" and "known_at" in csv_export.data["filters"]
    assert csv_export.metadata["actor"] == {"kind": "api_token", "id": str(token.user_id), "name": "alice",
                                            "channel": "api", "credential": token.credential_id}
    assert json_export.data["format"] == "json" and json_export.position > csv_export.position
    assert admin_export.data["format"] == "csv" and admin_export.metadata["actor"]["name"] == "fiona"
    assert admin_export.metadata["actor"]["channel"] == "admin"
    assert api.get("/api/analytics/statement/", {**params, "organization_id": "org-b"}).status_code == 404
    assert last_export().position == admin_export.position  # a refused statement took nothing out


@pytest.mark.django_db(transaction=True)
def test_audit_bundles_from_the_admin_and_the_command_line_are_recorded(ledger_key, tmp_path):
    paid("payment-b1", "org-a")
    paid("payment-b2", "org-b")
    head = ledger.sign_tree_head()
    client = auditor()

    answer = client.post("/admin/eventstore/treehead/", {"action": "download_audit_bundle",
                                                         "_selected_action": [str(head.tree_size)]})
    assert answer["Content-Type"] == "application/zip"
    from_admin = last_export()
    call_command("export_audit_bundle", str(tmp_path / "a.zip"), "--organization", "org-a", "--no-progress",
                 stdout=io.StringIO(), stderr=io.StringIO())
    from_command = last_export()

    assert from_admin.data["kind"] == "audit_bundle" and from_admin.data["format"] == "zip"
    assert from_admin.data["row_count"] == head.tree_size and from_admin.data["every_organization"]
    assert from_admin.data["filters"] == {"tree_size": str(head.tree_size)}
    assert from_admin.metadata["actor"]["name"] == "audrey"
    assert from_command.data["filters"]["organization"] == "org-a" and from_command.data["organizations"] == ["org-a"]
    assert from_command.data["row_count"] == 1
    assert from_command.metadata["actor"] == {"kind": "management_command", "id": "export_audit_bundle",
                                              "name": "export_audit_bundle", "channel": "command_line"}
