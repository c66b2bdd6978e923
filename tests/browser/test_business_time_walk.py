"""A finance user reads business time in a real browser: a payment's history with both times, its
state as of a business date as known at the month-end close, and the period statement with its CSV."""

import csv
import io

import pytest
from django.utils import timezone

from eventstore.projections.engine import apply_all_pending
from payments.models import Membership, Organization
from tests.admin_users import finance_user
from tests.browser.conftest import SCREENSHOTS

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def january_with_a_late_correction(run_command, command_request):
    """org-walk's January 2024: a payment, then a refund dated in January but recorded after the close."""
    payment_id = "payment-walk-bt-1"
    assert run_command(command_request(payment_id=payment_id, organization_id="org-walk", amount="1250.00",
                                       occurred_at="2024-01-10T09:00:00Z")).success
    close = timezone.now()
    assert run_command(command_request("REFUND", payment_id, organization_id="org-walk", amount="250.00",
                                       occurred_at="2024-01-29T16:00:00Z", description="Late correction")).success
    apply_all_pending()
    return payment_id, close


def test_business_time_walk(page, live_server, january_with_a_late_correction):
    payment_id, close = january_with_a_late_correction
    fiona = finance_user("fiona")
    walk, _ = Organization.objects.get_or_create(id="org-walk", defaults={"name": "Walk Ltd"})
    Membership.objects.create(user=fiona, organization=walk)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "fiona")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#custom-pages")

    page.goto(f"{live_server.url}/admin/payments/paymentsummary/{payment_id}/change/")
    page.wait_for_selector("table.history")
    history = page.inner_text("table.history")
    assert "OCCURRED\tRECORDED" in history.upper() and "2024-01-29 16:00:00 UTC" in history
    page.fill("form.as-of input[name=at]", "2024-01-31 23:59:59")
    page.fill("form.as-of input[name=known_at]", close.strftime("%Y-%m-%d %H:%M:%S.%f"))
    page.click("form.as-of input[type=submit]")
    page.wait_for_selector("table.as-of-state")
    as_known_then = page.inner_text("table.as-of-state")
    assert "processed" in as_known_then.lower() and "0.00 EUR of 1,250.00 EUR" in as_known_then
    shot(page, "bt-01-as-of-january-known-at-close")
    page.fill("form.as-of input[name=known_at]", "")
    page.click("form.as-of input[type=submit]")
    page.wait_for_selector("table.as-of-state")
    assert "partially refunded" in page.inner_text("table.as-of-state").lower()
    shot(page, "bt-02-as-of-january-known-now")

    page.goto(f"{live_server.url}/admin/")
    page.click("#custom-pages a:has-text('Period statement')")
    page.select_option("select[name=organization]", "org-walk")
    page.fill("input[name=start]", "2024-01-01")
    page.fill("input[name=end]", "2024-01-31")
    page.click(".statement-form input[type=submit]")
    page.wait_for_selector("text=Statement of org-walk")
    assert "1,000.00" in page.inner_text("#content-main")  # 1,250.00 processed, 250.00 refunded: net
    shot(page, "bt-03-statement")
    page.emulate_media(media="print")
    shot(page, "bt-04-statement-printed")
    page.emulate_media(media="screen")
    with page.expect_download() as download:
        page.click("text=Download CSV")
    rows = list(csv.reader(io.StringIO(open(download.value.path()).read())))
    assert ["EUR", "0.00", "1250.00", "250.00", "0.00", "1000.00", "1000.00"] in rows  # opening, movements, closing
