"""A finance staff member walks the admin in a real browser, as they would every day."""

import pytest

from eventstore.integrity import verify_event_chain
from eventstore.models import Event
from eventstore.projections import apply_all_pending
from tests.admin_users import finance_user
from tests.browser.conftest import SCREENSHOTS
from tests.payments.history import random_commands

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def logged_in(page, live_server, temporal):
    random_commands(200, payments=30, seed=21)
    apply_all_pending()
    verify_event_chain()
    finance_user("fiona")
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "fiona")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#custom-pages")
    return page


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_finance_walk(logged_in, live_server):
    page = logged_in
    shot(page, "01-index")

    page.click("#custom-pages a:has-text('Payments')")
    page.wait_for_selector("#result_list")
    shot(page, "02-payments")
    page.click("#changelist-filter a:has-text('Refunded') >> nth=0")
    page.wait_for_url("**status__exact=*")
    assert "status__exact=REFUNDED" in page.url or "status__exact=PARTIALLY_REFUNDED" in page.url
    rows = page.locator("#result_list tbody tr")
    assert rows.count() > 0
    shot(page, "02b-payments-filtered")

    rows.first.locator("th a").click()
    page.wait_for_selector("table.history")
    assert page.locator("table.history tbody tr").count() >= 2
    assert page.locator("text=PaymentRefunded").count() > 0
    shot(page, "03-payment-history")

    page.fill("input[name=version]", "1")
    page.click("form.as-of input[type=submit]")
    page.wait_for_selector("table.as-of-state")
    assert "PROCESSED" in page.inner_text("table.as-of-state")
    shot(page, "04-state-as-of-version-1")

    page.locator("table.history a[href*='/admin/timeline/']").first.click()
    page.wait_for_selector(".timeline-axis .mark")
    assert page.locator(".timeline-axis .mark").count() >= 1
    shot(page, "05-timeline")

    page.goto(f"{live_server.url}/admin/")
    page.click("#custom-pages a:has-text('Analytics dashboard')")
    page.wait_for_selector("svg.chart")
    assert page.locator("svg.chart").count() >= 2
    assert "intact" in page.inner_text("#content-main")
    shot(page, "06-dashboard")

    page.goto(f"{live_server.url}/admin/payments/paymentsummary/")
    with page.expect_download() as download:
        page.click("text=Export CSV")
    path = download.value.path()
    lines = open(path).read().splitlines()
    assert lines[0].startswith("payment_id") and len(lines) > 1
    shot(page, "07-export")

    event = Event.objects.first()
    page.goto(f"{live_server.url}/admin/eventstore/event/{event.position}/change/")
    assert page.locator("input[name=_save]").count() == 0
    assert page.locator("input[name=event_type]").count() == 0
    shot(page, "08-event-read-only")
    page.goto(f"{live_server.url}/admin/eventstore/event/add/")
    assert "403" in page.title() or "Forbidden" in page.content()
