"""A French-speaking finance user of a Paris organization closes November in a real browser: switches
the admin to French, reconciles the provider's settlement file, resolves a finding, reads the month's
statement with its balances and the events behind one, and downloads it as XLSX."""

import re
from decimal import Decimal

import openpyxl
import pytest

from eventstore.projections.engine import apply_all_pending
from payments.models import Organization
from tests.admin_users import finance_user
from tests.browser.conftest import SCREENSHOTS
from tests.payments.reconciliation.settlement_files import NATIVE_HEADER, native_line, record_payment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

NARROW_NBSP, NBSP = "\N{NARROW NO-BREAK SPACE}", "\N{NO-BREAK SPACE}"
ORGANIZATION = "org-paris"


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def euros(text: str) -> str:
    """An amount as French readers write it: "4 784,50 €" (narrow no-break space between thousands)."""
    return f"{text.replace(' ', NARROW_NBSP)}{NBSP}€"


def assert_french(page) -> None:
    assert page.get_attribute("html", "lang") == "fr"


@pytest.fixture
def november_in_paris(run_command, command_request, tmp_path):
    """org-paris (Europe/Paris): a payment in October, five in November, one of them at 00:30 on
    1 November in Paris (still 31 October in UTC), a refund; and the provider's file for November with
    an amount that differs, a payment it lacks and a line for a payment the trail never had."""
    Organization.objects.update_or_create(id=ORGANIZATION, defaults={"name": "Paris SAS",
                                                                     "time_zone": "Europe/Paris"})
    record_payment("payment-paris-0", ORGANIZATION, "500.00", "EUR", "2026-10-20")
    record_payment("payment-paris-1", ORGANIZATION, "1234.50", "EUR", "2026-11-03")
    record_payment("payment-paris-2", ORGANIZATION, "2000.00", "EUR", "2026-11-05", refunds=("150.00",))
    record_payment("payment-paris-3", ORGANIZATION, "300.00", "EUR", "2026-11-10")
    record_payment("payment-paris-4", ORGANIZATION, "800.00", "EUR", "2026-11-20")
    assert run_command(command_request(payment_id="payment-paris-midnight", organization_id=ORGANIZATION,
                                       amount="100.00", occurred_at="2026-10-31T23:30:00Z")).success
    apply_all_pending()
    lines = [native_line("payment-paris-1", "charge", "1234.50", "12.35", "1222.15", day="2026-11-03"),
             native_line("payment-paris-2", "charge", "2000.00", "20.00", "1980.00", day="2026-11-05"),
             native_line("payment-paris-2", "refund", "-150.00", "0.00", "-150.00", day="2026-11-05"),
             native_line("payment-paris-3", "charge", "350.00", "3.50", "346.50", day="2026-11-10"),
             native_line("payment-paris-99", "charge", "42.00", "0.42", "41.58", day="2026-11-12")]
    path = tmp_path / "reglements-novembre.csv"
    path.write_text("\n".join([NATIVE_HEADER, *lines, ""]))
    return path


def test_month_end_walk(page, live_server, november_in_paris):
    finance_user("amelie", [ORGANIZATION])
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "amelie")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#language-choice")
    with page.expect_navigation():
        page.select_option("#language-choice", "fr")  # the chooser submits itself
    assert_french(page)
    shot(page, "me-01-index-fr")

    page.goto(f"{live_server.url}/admin/payments/reconciliation/add/")
    page.set_input_files("input[name=file]", str(november_in_paris))
    page.select_option("select[name=organization]", ORGANIZATION)
    page.fill("input[name=period_start]", "2026-11-01")
    page.fill("input[name=period_end]", "2026-11-30")
    page.click(".reconciliation-import input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/payments/reconciliation/\d+/change/$"))
    page.wait_for_selector("#reconciliation-summary", timeout=30_000)  # the page refreshes until the run is done
    assert_french(page)
    findings = page.inner_text("#reconciliation-findings")
    for payment_id in ("payment-paris-3", "payment-paris-4", "payment-paris-99", "payment-paris-midnight"):
        assert payment_id in findings  # midnight: 1 November in Paris, the period's days are Paris days
    assert "payment-paris-1" not in findings  # matched: no finding
    content = page.inner_text("#content-main")
    for label in ("Terminé", "Les totaux du fichier", "Par résultat", "Écarts ouverts", "Télécharger en CSV"):
        assert label in content, label
    assert "Montant différent" in findings and "Dans le fichier, pas dans la piste" in findings
    assert euros("350,00") in findings and euros("42,00") in findings
    matched = page.locator("#reconciliation-summary tbody tr", has_text="Rapproché").locator("td").all_inner_texts()
    # 1 234,50 + 2 000 charged, 150 refunded: the amounts as French readers write them
    assert matched[:4] == ["Rapproché", "EUR", "3", euros("3 084,50")], matched
    links = page.locator("#reconciliation-findings a[href*='/paymentsummary/']").all_inner_texts()
    assert sorted(links) == ["payment-paris-3", "payment-paris-4", "payment-paris-midnight"]  # none to payment-paris-99
    shot(page, "me-02-reconciliation-findings")

    mismatch = page.locator("#reconciliation-findings tbody tr", has_text="payment-paris-3")
    mismatch.locator("textarea[name=note]").fill("Supplément de 50 € accepté par le client.")
    mismatch.locator("input[type=submit]").click()
    page.wait_for_selector("ul.messagelist li.success")
    assert "payment-paris-3" not in page.inner_text("#reconciliation-findings")  # no longer open
    page.goto(f"{page.url}?show=all")
    assert "Supplément de 50 € accepté par le client. (amelie," in page.inner_text("#reconciliation-findings")
    shot(page, "me-03-finding-resolved")

    page.goto(f"{live_server.url}/admin/")
    page.click("#custom-pages a:has-text('Relevé de période')")
    assert_french(page)
    assert "Survenus du" in page.inner_text(".statement-form")
    page.select_option("select[name=organization]", ORGANIZATION)
    page.fill("input[name=start]", "2026-11-01")
    page.fill("input[name=end]", "2026-11-30")
    page.click(".statement-form input[type=submit]")
    page.wait_for_selector(f"text=Relevé de {ORGANIZATION}")
    assert "Europe/Paris" in page.inner_text("#content-main")
    balances = page.locator("table.balances tbody tr", has_text="EUR").locator("td").all_inner_texts()
    # 500 before November; 1 234,50 + 2 000 + 300 + 800 + 100 (00:30 in Paris on 1 November) in, 150 out
    assert balances == ["EUR", euros("500,00"), euros("4 434,50"), euros("150,00"), euros("0,00"),
                        euros("4 284,50"), euros("4 784,50")], balances
    shot(page, "me-04-statement")

    page.click("table.balances a[href*='explain=processed']")
    page.wait_for_selector("#explain")
    explained = page.inner_text("#explain")
    for payment_id in ("payment-paris-1", "payment-paris-2", "payment-paris-3", "payment-paris-4",
                       "payment-paris-midnight"):
        assert payment_id in explained
    assert "payment-paris-0" not in explained
    assert euros("1 234,50") in explained
    shot(page, "me-05-statement-explained")

    with page.expect_download() as download:
        page.click("text=Télécharger en XLSX")
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(download.value.path(), "rb") as xlsx:
        workbook = openpyxl.load_workbook(xlsx)
    assert workbook.sheetnames[0] == "Relevé"
    rows = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    eur = next(row for row in rows if row and row[0] == "EUR")
    assert [Decimal(str(value)) for value in (eur[1], eur[-1])] == [Decimal("500.00"), Decimal("4784.50")], eur
