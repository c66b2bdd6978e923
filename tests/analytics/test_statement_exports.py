"""The period statement as a workbook: the scope and totals on one sheet, every event on another,
amounts as numbers in their currency's format and moments as dates; from the admin and the API."""

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import translation
from openpyxl import load_workbook

from analytics.statements import CurrencyTotals, Statement, StatementLine, statement_sheets
from eventstore.web.exports import xlsx_file
from payments.models import Organization

pytestmark = pytest.mark.django_db

JAN, FEB = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)
STATEMENT = Statement(
    "org-acme", JAN, FEB, datetime(2024, 2, 2, 18, tzinfo=UTC),
    [CurrencyTotals("EUR", Decimal("100.00"), Decimal("1234.50"), Decimal("25.00"), Decimal("0")),
     CurrencyTotals("JPY", Decimal("0"), Decimal("1500"), Decimal("0"), Decimal("1500"))],
    [StatementLine("processed", datetime(2024, 1, 3, 10, tzinfo=UTC), datetime(2024, 1, 3, 10, 0, 1, tzinfo=UTC),
                   "payment-s1", "PaymentProcessed", "5f0c7a52-33a5-4a38-9bd6-2d1f4f8e4b2a", 7, Decimal("1234.50"), "EUR", 6, "ab" * 32)],
)


def test_the_statement_workbook_has_numbers_and_dates():
    workbook = load_workbook(xlsx_file(statement_sheets(STATEMENT)))
    assert workbook.sheetnames == ["Statement", "Events"]
    summary = {row[0].value: row for row in workbook["Statement"].iter_rows() if row[0].value}
    assert summary["as known at"][1].value == datetime(2024, 2, 2, 18) and summary["as known at"][1].is_date
    eur = summary["EUR"]
    assert [cell.value for cell in eur] == ["EUR", 100, 1234.5, 25, 0, 1209.5, 1309.5]
    assert eur[6].number_format == '#,##0.00 "EUR"' and summary["JPY"][1].number_format == '#,##0 "JPY"'
    header, line = list(workbook["Events"].iter_rows(values_only=True))
    assert dict(zip(header, line))["amount"] == 1234.5 and dict(zip(header, line))["position"] == 7
    assert dict(zip(header, line))["ledger index"] == 6 and dict(zip(header, line))["hash"] == "ab" * 32

    with translation.override("fr"):
        french = load_workbook(xlsx_file(statement_sheets(STATEMENT)))
    assert french.sheetnames == ["Relevé", "Événements"]
    assert [cell.value for cell in french["Relevé"]["A"]][:5] == [
        "relevé", "survenus à partir du", "survenus avant le", "fuseau horaire", "tel que connu le"]
    assert next(french["Événements"].iter_rows(values_only=True))[:3] == ("rubrique", "devise", "montant")


def test_the_admin_and_the_api_download_the_statement_as_xlsx(client, finance_user, tenants):
    client.force_login(finance_user)
    Organization.objects.get_or_create(id="org-acme", defaults={"name": "Acme"})
    query = {"organization": "org-acme", "start": "2024-01-01", "end": "2024-01-31", "known_at": "2024-02-02 18:00:00"}
    page = client.get("/admin/analytics/statement/", {**query, "download": "xlsx"})
    assert page.status_code == 200 and page["Content-Disposition"].endswith('-known-20240202T180000000000Z.xlsx"')
    assert load_workbook(io.BytesIO(b"".join(page.streaming_content))).sheetnames == ["Statement", "Events"]
    assert client.get("/admin/analytics/statement/", {**query, "download": "pdf"}).status_code == 400
    excel = client.get("/admin/analytics/statement/", {**query, "download": "csv", "bom": "1"})
    assert excel.content.startswith(b"\xef\xbb\xbfstatement,org-acme")

    answer = tenants.acme.get("/api/analytics/statement/xlsx/", {
        "organization_id": "org-acme", "from": "2024-01-01T00:00:00Z", "to": "2024-02-01T00:00:00Z"})
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert load_workbook(io.BytesIO(b"".join(answer.streaming_content)))["Statement"]["B1"].value == "org-acme"
