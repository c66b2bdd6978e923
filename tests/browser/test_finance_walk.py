"""A finance staff member walks the admin in a real browser, as they would every day."""

import csv
import re
from decimal import Decimal

import pytest

from eventstore.integrity.verification import verify_event_chain
from eventstore.models import Event
from eventstore.projections.engine import apply_all_pending
from payments.models import PaymentSummary
from tests.admin_users import finance_user
from tests.browser.conftest import SCREENSHOTS
from tests.payments.history import random_commands

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def logged_in(page, live_server, temporal):
    random_commands(200, payments=30, seed=21)
    apply_all_pending()
    verify_event_chain()
    organizations = sorted(set(PaymentSummary.objects.values_list("organization_id", flat=True)))
    finance_user("fiona", organizations=organizations[:1])
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "fiona")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#custom-pages")
    return page


def fiona_organizations() -> list[str]:
    from payments.models import Membership
    return list(Membership.objects.filter(user__username="fiona").values_list("organization_id", flat=True))


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_finance_walk(logged_in, live_server):
    page = logged_in
    shot(page, "01-index")

    page.click("tr.model-paymentsummary th a")
    page.wait_for_selector("#result_list")
    assert re.fullmatch(r"(about )?[\d,]+ payments", page.inner_text(".result-count").strip())
    organizations = {text.strip() for text in page.locator("#result_list td.field-organization_id").all_inner_texts()}
    assert len(organizations) == 1, "a member sees only the organization they belong to"
    assert "PARTIALLY_REFUNDED" not in page.inner_text("#result_list")
    shot(page, "02-payments")

    wanted = page.locator("#result_list th.field-payment_id a").first.inner_text()
    page.fill("#searchbar", wanted.rsplit("-", 1)[1])  # payment-mix-12 is found by 12
    page.press("#searchbar", "Enter")
    page.wait_for_url("**q=*")
    assert wanted in page.locator("#result_list th.field-payment_id").all_inner_texts()
    shot(page, "02a-payments-search")
    page.goto(f"{live_server.url}/admin/payments/paymentsummary/")
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
    assert "Processed" in page.inner_text("table.as-of-state")
    shot(page, "04-state-as-of-version-1")

    page.locator("table.history a[href*='/admin/timeline/']").first.click()
    page.wait_for_selector(".timeline-axis .mark")
    assert page.locator(".timeline-axis .mark").count() >= 1
    shot(page, "05-timeline")

    page.goto(f"{live_server.url}/admin/")
    page.click("#custom-pages a:has-text('Analytics dashboard')")
    page.wait_for_selector("svg.chart")
    assert page.locator("svg.chart").count() >= 2
    assert "intact" in page.inner_text("#trust")
    shot(page, "06-dashboard")

    page.goto(f"{live_server.url}/admin/payments/paymentsummary/")
    with page.expect_download() as download:
        page.click("text=Export CSV")
    assert re.fullmatch(r"payments-\d{4}-\d\d-\d\d\.csv", download.value.suggested_filename)
    rows = list(csv.DictReader(open(download.value.path())))
    assert rows
    for row in rows:
        decimals = {"JPY": 0, "KWD": 3}.get(row["currency"], 2)
        assert -Decimal(row["amount"]).as_tuple().exponent == decimals, row
    shot(page, "07-export")

    page.goto(f"{live_server.url}/admin/eventstore/event/")
    page.wait_for_selector("#result_list")
    assert re.fullmatch(r"(about )?[\d,]+ events", page.inner_text(".result-count").strip())
    assert " UTC" in page.inner_text("#result_list td.field-recorded_at >> nth=0")
    shot(page, "07b-events")

    event = Event.objects.filter(metadata__organization_id__in=fiona_organizations()).first()
    page.goto(f"{live_server.url}/admin/eventstore/event/{event.position}/change/")
    assert page.locator("input[name=_save]").count() == 0
    assert page.locator("input[name=event_type]").count() == 0
    shot(page, "08-event-read-only")
    page.goto(f"{live_server.url}/admin/eventstore/event/add/")
    assert "403" in page.title() or "Forbidden" in page.content()
