"""Four eyes in a real browser: one finance user requests a 2,000.00 EUR refund on the payment's page,
a second approves it in the approvals queue, and the payment's history names both."""

from decimal import Decimal

import pytest

from eventstore.actors import Actor
from eventstore.models import Event
from payments import approval_policies
from payments.client import submit_command
from payments.messages import PaymentCommandRequest
from payments.models import ApprovalPolicy, Organization
from payments.staff import create_finance_user
from tests.browser.conftest import SCREENSHOTS

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

ORG = "org-walk"


def sign_in(browser, live_server, username: str):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#custom-pages")
    return page


def test_one_requests_a_refund_another_approves_it(browser, live_server, temporal):
    SCREENSHOTS.mkdir(exist_ok=True)
    anna = create_finance_user(username="anna", password="pw", organizations=[ORG])
    ben = create_finance_user(username="ben", password="pw", organizations=[ORG], approver=True)
    approval_policies.save_rule(
        rule=ApprovalPolicy(organization=Organization.objects.get(id=ORG), command_type="REFUND", currency="EUR",
                            threshold=Decimal("1000.00")),
        actor=Actor(kind="user", id=str(ben.pk), name="ben", channel="admin"))
    created = temporal.run(submit_command(temporal.client, PaymentCommandRequest(
        type="CREATE", payment_id="payment-walk-four-eyes", organization_id=ORG, user_id="anna", amount="5000.00",
        currency="EUR", description="Order 5521"), task_queue=temporal.task_queue))
    assert created.success, created.message
    payment_url = f"{live_server.url}/admin/payments/paymentsummary/payment-walk-four-eyes/change/"

    requester = sign_in(browser, live_server, "anna")
    requester.goto(payment_url)
    requester.fill("#id_amount", "2000.00")
    requester.fill("#id_reason", "Goods returned")
    requester.click("button[value=REFUND]")
    requester.wait_for_selector("ul.messagelist")
    assert "awaits approval" in requester.inner_text("ul.messagelist")
    assert "Waiting" in requester.inner_text("table.approvals")
    requester.screenshot(path=str(SCREENSHOTS / "approval-01-requested.png"), full_page=True)

    approver = sign_in(browser, live_server, "ben")
    assert approver.inner_text("#approvals-waiting strong") == "1"
    approver.click("#approvals-waiting a")
    approver.wait_for_selector("table.approvals")
    assert "anna" in approver.inner_text("table.approvals") and "2,000.00 EUR" in approver.inner_text("table.approvals")
    approver.click("form.decide button[value=approve]")
    approver.wait_for_selector("ul.messagelist")
    assert "Approved" in approver.inner_text("ul.messagelist"), approver.inner_text("ul.messagelist")
    approver.goto(payment_url)
    history = approver.inner_text("table.history")
    assert "anna\nuser, via admin" in history and "approved by ben" in history
    assert "Approved" in approver.inner_text("table.approvals")
    approver.screenshot(path=str(SCREENSHOTS / "approval-02-approved.png"), full_page=True)

    refunded = Event.objects.get(stream_id="payment-walk-four-eyes", event_type="PaymentRefunded")
    assert (refunded.metadata["actor"]["id"], refunded.metadata["approved_by"]["id"]) == (str(anna.pk), str(ben.pk))
    assert refunded.metadata["actor"]["channel"] == "admin" and refunded.data["amount"] == "2000.00"
