"""The admin's approval pages without Temporal: the policy's changes are events with their editor,
and the pages refuse who may not act before anything runs."""

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from eventstore.models import Event
from payments.models import ApprovalPolicy, Organization, PaymentSummary
from payments.staff import create_finance_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_policy_edits_in_the_admin_are_events_with_their_editor(client, django_user_model):
    editor = django_user_model.objects.create_superuser("erin", password="pw")
    Organization.objects.create(id="org-9", name="Nine")
    client.force_login(editor)

    added = client.post("/admin/payments/approvalpolicy/add/", {
        "organization": "org-9", "command_type": "REFUND", "currency": "eur", "threshold": "1000.00"})
    assert added.status_code == 302, added.content.decode()[:2000]
    refused = client.post("/admin/payments/approvalpolicy/add/", {
        "organization": "org-9", "command_type": "CANCEL", "currency": "", "threshold": "50"})
    assert "name the currency" in refused.content.decode()
    rule = ApprovalPolicy.objects.get()
    client.post(f"/admin/payments/approvalpolicy/{rule.pk}/delete/", {"post": "yes"})

    events = list(Event.objects.filter(stream_id="approval-policy-org-9").order_by("version"))
    assert [(event.event_type, event.data["rule"]) for event in events] == [
        ("ApprovalRuleAdded", "every refund from 1000.00 EUR"), ("ApprovalRuleRemoved", "every refund from 1000.00 EUR")]
    assert {event.metadata["actor"]["id"] for event in events} == {str(editor.pk)}
    assert events[0].metadata["actor"]["channel"] == "admin" and not ApprovalPolicy.objects.exists()


def test_who_may_not_act_is_refused_before_anything_runs(client):
    client.force_login(create_finance_user(username="viv", password="pw", organizations=["org-9"]))  # no approver

    assert client.post("/admin/payments/approval/some-id/decide/", {"decision": "approve"}).status_code == 403
    assert client.get("/admin/payments/approval/").status_code == 200
    assert client.get("/admin/payments/approvalpolicy/").status_code == 403
    index = client.get("/admin/").content.decode()
    assert 'id="approvals-waiting"' in index and "<strong>0</strong> waiting for you" in index


def test_the_payment_page_form_refuses_a_refund_without_amount_and_who_may_not_request(client):
    """Both answered before any command runs (no Temporal here)."""
    PaymentSummary.objects.create(payment_id="payment-form", organization_id="org-9", user_id="u", amount=10,
                                  currency="EUR", status="PROCESSED", created_at=timezone.now(),
                                  updated_at=timezone.now(), version=1, last_position=1)
    staff = create_finance_user(username="sam", password="pw", organizations=["org-9"])
    client.force_login(staff)
    page = client.get("/admin/payments/paymentsummary/payment-form/change/").content.decode()
    assert "Request refund" in page and "Request cancel" in page and "csrfmiddlewaretoken" in page

    refused = client.post("/admin/payments/paymentsummary/payment-form/request/",
                          {"command": "REFUND", "reason": "Returned", "key": "k1"})
    assert refused.status_code == 200 and "A refund needs an amount." in refused.content.decode()

    staff.groups.clear()
    staff.user_permissions.add(Permission.objects.get(codename="view_paymentsummary"))
    client.force_login(staff)
    assert client.post("/admin/payments/paymentsummary/payment-form/request/",
                       {"command": "CANCEL", "reason": "Duplicate", "key": "k2"}).status_code == 403
    assert "Request refund" not in client.get("/admin/payments/paymentsummary/payment-form/change/").content.decode()
