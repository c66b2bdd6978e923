"""Exports people open in a spreadsheet: the same rows as CSV or XLSX, text that a spreadsheet would run
as a formula made inert in both, a byte order mark for Excel on request, numbers and dates typed in XLSX."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from eventstore.web.exports import Amount, Sheet, csv_text, xlsx_file
from payments.models import PaymentSummary

FORMULAS = ["=HYPERLINK(\"http://example.test\",\"pay\")", "+1+2", "-3+4", "@SUM(A1:A2)", "\tcmd", "\rcmd"]
ROWS = [
    ["text", "amount", "plain decimal", "count", "moment", "day"],
    *([formula, Amount(Decimal("-1234.5"), "EUR", 2), Decimal("0.125"), -7,
       datetime(2026, 10, 25, 1, 30, tzinfo=UTC), date(2026, 3, 29)] for formula in FORMULAS),
]


def test_csv_neutralises_formulas_and_keeps_numbers_plain():
    rows = list(csv.reader(io.StringIO(csv_text([Sheet("t", ROWS)]), newline="")))
    assert [row[0] for row in rows[1:]] == ["'" + formula for formula in FORMULAS]
    assert rows[1][1:] == ["-1234.50", "0.125", "-7", "2026-10-25T01:30:00.000000+00:00", "2026-03-29"]
    assert csv_text([Sheet("t", [["Événement"]])], bom=True).encode("utf-8").startswith(b"\xef\xbb\xbf\xc3\x89v")
    assert not csv_text([Sheet("t", [["Événement"]])]).startswith("\ufeff")


def test_xlsx_writes_formulas_as_text_numbers_as_numbers_and_dates_as_dates():
    sheet = load_workbook(xlsx_file([Sheet("Payments: 2026/03", ROWS)])).active
    assert sheet.title == "Payments  2026 03"
    texts = [sheet.cell(row, 1) for row in range(2, 2 + len(FORMULAS))]
    assert [cell.value for cell in texts[:-1]] == FORMULAS[:-1] and texts[-1].value == "\ncmd"  # XML reads CR as LF
    assert all(cell.data_type == "s" for cell in texts), [cell.data_type for cell in texts]
    amount, plain, count, moment, day = (sheet.cell(2, column) for column in range(2, 7))
    assert amount.data_type == "n" and amount.value == -1234.5 and amount.number_format == '#,##0.00 "EUR"'
    assert plain.value == 0.125 and plain.number_format == "#,##0.000" and count.value == -7
    assert moment.is_date and moment.value == datetime(2026, 10, 25, 1, 30)
    assert day.is_date and day.value == datetime(2026, 3, 29)
    assert sheet.cell(1, 1).font.bold


@pytest.mark.django_db
def test_the_admin_exports_the_filtered_payments_as_xlsx_and_csv_for_excel(client, finance_user):
    moment = datetime(2026, 3, 29, 9, 30, tzinfo=UTC)
    for number, description in enumerate(["=1+1", "Facture 2026-0042"]):
        PaymentSummary.objects.create(
            payment_id=f"payment-x{number}", organization_id="org-paris", user_id="amelie", amount=Decimal("1234.50"),
            refunded=Decimal("0"), currency="EUR", status="PROCESSED", description=description, created_at=moment,
            updated_at=moment, occurred_at=moment, version=1, last_position=number + 1)
    client.force_login(finance_user)

    response = client.get("/admin/payments/paymentsummary/export.xlsx", {"q": "payment-x0"})
    assert response.status_code == 200 and response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header, row, *rest = [[cell for cell in line] for line in sheet.iter_rows()]
    cells = dict(zip((cell.value for cell in header), row))  # headed for people: the fields' names
    assert not rest and cells["Payment id"].value == "payment-x0"
    assert cells["Description"].value == "=1+1" and cells["Description"].data_type == "s"
    assert cells["Amount"].value == 1234.5 and cells["Amount"].number_format == '#,##0.00 "EUR"'
    assert cells["Created at"].is_date and cells["Created at"].value == datetime(2026, 3, 29, 9, 30)

    excel = client.get("/admin/payments/paymentsummary/export.csv", {"bom": "1", "o": "1"})
    content = b"".join(excel.streaming_content).decode("utf-8")
    assert excel.status_code == 200 and content.startswith("\ufeffpayment_id,")
    lines = list(csv.DictReader(io.StringIO(content.removeprefix("\ufeff"))))
    assert {line["description"] for line in lines} == {"'=1+1", "Facture 2026-0042"}
    assert {line["amount"] for line in lines} == {"1234.50"}


def test_xlsx_says_where_a_sheet_too_long_for_a_worksheet_was_cut(monkeypatch):
    monkeypatch.setattr("eventstore.web.exports.XLSX_MAX_ROWS", 4)  # the format allows 1,048,576
    rows = [["n"], *([number] for number in range(10))]
    values = [row[0] for row in load_workbook(xlsx_file([Sheet("t", rows)])).active.iter_rows(values_only=True)]
    assert values[:3] == ["n", 0, 1] and values[3].startswith("Cut at 3 rows") and len(values) == 4
