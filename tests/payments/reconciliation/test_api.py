"""Reconciliation through the API, end to end: a file with every kind of discrepancy planted, its
findings and totals, the events recorded, a resolution, a re-import, bad files, and tenancy."""

from collections import Counter
from decimal import Decimal

import pytest

from eventstore.selectors import read_stream
from payments.reconciliation.models import Reconciliation, SettlementChunk
from tests.payments.reconciliation.settlement_files import (
    native_line,
    record_payment,
    settlement_file,
    wait_for_run,
)

pytestmark = pytest.mark.django_db(transaction=True)

PERIOD = {"period_start": "2026-11-01", "period_end": "2026-11-30"}


def _plant():
    """Payments of org-acme (and one of org-globex), and a file that settles them with one of each
    discrepancy: the expected outcome is named beside each line."""
    record_payment("payment-r1", "org-acme", "100.00", "EUR", "2026-11-02")
    record_payment("payment-r2", "org-acme", "200.00", "EUR", "2026-11-03", refunds=("50.00",))
    record_payment("payment-r3", "org-acme", "300.00", "EUR", "2026-11-04")  # not in the file
    record_payment("payment-r4", "org-acme", "400.00", "EUR", "2026-11-05")
    record_payment("payment-r5", "org-acme", "500.00", "EUR", "2026-11-06")
    record_payment("payment-r6", "org-acme", "600.00", "EUR", "2026-11-07")
    record_payment("payment-r7", "org-acme", "700.00", "EUR", "2026-11-08", cancel=True)  # voided: settles nothing
    record_payment("payment-r8", "org-acme", "80.00", "EUR", "2026-10-02")  # before the period, not in the file
    record_payment("payment-g1", "org-globex", "800.00", "EUR", "2026-11-09")
    return [
        native_line("payment-r1", "charge", "100.00", "1.50", "98.50"),  # matched
        native_line("r2", "charge", "200.00", "3.00", "197.00"),  # matched (our id without its prefix)
        native_line("payment-r2", "refund", "-50.00", "0.00", "-50.00"),  # matched
        native_line("payment-r4", "charge", "410.00", "6.00", "404.00"),  # amount mismatch
        native_line("payment-r5", "charge", "500.00", "7.00", "493.00", currency="USD"),  # currency mismatch
        native_line("payment-r6", "charge", "600.00", "9.00", "591.00"),  # matched
        native_line("payment-r6", "charge", "600.00", "9.00", "591.00"),  # duplicate
        native_line("payment-nowhere", "charge", "90.00", "1.00", "89.00"),  # not in the trail
        native_line("payment-g1", "charge", "800.00", "12.00", "788.00"),  # another organization's: not in the trail
        native_line("payment-r1", "chargeback", "-100.00", "15.00", "-115.00"),  # matched
        native_line("", "fee", "0.00", "25.00", "-25.00"),  # the provider's fee
        native_line("payment-r6", "charge", "12.5x", "0.00", "12.50"),  # cannot be read: line 13
    ]


def _file_totals(lines: list[str]) -> dict:
    totals = {}
    for line in lines:
        cells = line.split(",")
        try:
            amounts = [Decimal(cell) for cell in cells[2:5]]
        except ArithmeticError:
            continue
        sums = totals.setdefault(cells[5], [Decimal(0)] * 3)
        totals[cells[5]] = [total + amount for total, amount in zip(sums, amounts)]
    return {currency: dict(zip(("gross", "fee", "net"), map(str, sums))) for currency, sums in totals.items()}


def test_planted_discrepancies_are_found_with_totals_that_add_up(temporal, tenants):
    lines = _plant()
    answer = tenants.acme.post("/api/reconciliations/", {"file": settlement_file(lines), **PERIOD},
                               format="multipart")
    assert answer.status_code == 201, answer.json()
    run = wait_for_run(tenants.acme, answer.json()["id"])
    assert run["status"] == "completed", run
    assert (run["progress"], run["lines_total"], run["lines_read"], run["lines_matched"]) == (1.0, 12, 12, 11)

    findings = tenants.acme.get(f"/api/reconciliations/{run['id']}/findings/?limit=3").json()
    rows = findings["results"]
    while findings["next"]:
        findings = tenants.acme.get(findings["next"]).json()
        rows += findings["results"]
    found = sorted((row["outcome"], row["payment_id"], row["line_number"]) for row in rows)
    assert found == sorted([
        ("amount_mismatch", "payment-r4", 5), ("currency_mismatch", "payment-r5", 6),
        ("duplicate", "payment-r6", 8), ("not_in_trail", "payment-nowhere", 9),
        ("not_in_trail", "payment-g1", 10), ("invalid", "", 13), ("not_in_file", "payment-r3", None),
    ])
    assert [row["number"] for row in rows] == list(range(1, 8))
    by_outcome = {row["outcome"]: row for row in rows}
    assert "12.5x" in by_outcome["invalid"]["message"] and "Line 13" in by_outcome["invalid"]["message"]
    assert by_outcome["amount_mismatch"]["trail_amount"] == "400.00"
    mentions = " ".join(row["message"] for row in rows if row["payment_id"] in ("payment-g1", "payment-nowhere"))
    assert "org-globex" not in mentions and "800" not in mentions.replace("payment-g1", "")

    counts = Counter()
    for row in run["summary"]:
        counts[row["outcome"]] += row["count"]
    assert counts == {"matched": 5, "fee": 1, "amount_mismatch": 1, "currency_mismatch": 1, "duplicate": 1,
                      "not_in_trail": 2, "invalid": 1, "not_in_file": 1}
    assert run["file_totals"] == _file_totals(lines)
    file_side = {}
    for row in run["summary"]:
        if row["outcome"] != "not_in_file" and row["currency"]:
            sums = file_side.setdefault(row["currency"], [Decimal(0)] * 3)
            file_side[row["currency"]] = [total + Decimal(row[name]) for total, name in
                                          zip(sums, ("gross", "fee", "net"))]
    assert {code: [str(value) for value in sums] for code, sums in file_side.items()} == {
        code: [totals["gross"], totals["fee"], totals["net"]] for code, totals in run["file_totals"].items()}

    events = list(read_stream(f"reconciliation-{run['id']}"))
    assert [event.event_type for event in events] == ["ReconciliationStarted", "ReconciliationCompleted"]
    uploader = events[0].metadata["actor"]
    assert (uploader["kind"], uploader["name"], uploader["channel"]) == ("api_token", "alice", "api")
    assert uploader["credential"].startswith("tok_") and events[1].metadata["actor"] == uploader
    assert events[1].data["summary"] == run["summary"] and events[1].data["findings"] == 7

    number = by_outcome["duplicate"]["number"]
    resolved = tenants.acme.post(f"/api/reconciliations/{run['id']}/findings/{number}/resolve/",
                                 {"note": "Provider sent the line twice; ticket 4411."}, format="json")
    assert resolved.status_code == 200, resolved.json()
    assert resolved.json()["resolution_note"] == "Provider sent the line twice; ticket 4411."
    assert resolved.json()["resolved_by"]["name"] == "alice"
    again = tenants.acme.post(f"/api/reconciliations/{run['id']}/findings/{number}/resolve/", {"note": "again"},
                              format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_resolved"
    resolution = list(read_stream(f"reconciliation-{run['id']}"))[-1]
    assert resolution.event_type == "ReconciliationFindingResolved"
    assert resolution.data["note"] == "Provider sent the line twice; ticket 4411."
    assert resolution.metadata["actor"]["name"] == "alice"

    open_ones = tenants.acme.get(f"/api/reconciliations/{run['id']}/findings/?open=true&outcome=duplicate").json()
    assert open_ones["results"] == []
    assert [row["id"] for row in tenants.acme.get("/api/reconciliations/").json()["results"]] == [run["id"]]
    assert tenants.globex.get("/api/reconciliations/").json()["results"] == []

    exported = tenants.acme.get(f"/api/reconciliations/{run['id']}/findings/export/")
    csv_text = b"".join(exported.streaming_content).decode()
    assert exported.status_code == 200 and csv_text.startswith("finding,outcome,")
    assert len(csv_text.strip().splitlines()) == 8 and "ticket 4411" in csv_text
    workbook = tenants.acme.get(f"/api/reconciliations/{run['id']}/findings/export/", {"download": "xlsx"})
    assert workbook.status_code == 200 and workbook["Content-Type"].startswith("application/vnd.openxmlformats")

    repeat = tenants.acme.post("/api/reconciliations/", {"file": settlement_file(lines), **PERIOD},
                               format="multipart")
    assert repeat.status_code == 200 and repeat.json()["id"] == run["id"] and repeat.json()["already_imported"]

    for path in ("", "findings/", "findings/export/"):
        assert tenants.globex.get(f"/api/reconciliations/{run['id']}/{path}").status_code == 404
    assert tenants.globex.post(f"/api/reconciliations/{run['id']}/findings/1/resolve/", {"note": "x"},
                               format="json").status_code == 404


@pytest.mark.parametrize("content, message", [
    (b"ref,amount\npayment-1,10.00\n", "the header lacks reference, kind, gross"),
    (b"", "empty"),
    ("reference,kind,gross,fee,net,currency,booking_date,payout_id\n".encode() + b"\xff\xfe,charge\n",
     "not UTF-8"),
    (b"reference,kind,gross,fee,net,currency,booking_date,payout_id\n", "no lines"),
    (b"reference,kind,gross,fee,net,currency,booking_date,payout_id\np-1,charge,1.00,0,1.00,EUR,2026-11-02,x\x00\n",
     "Line 2: a NUL character"),
])
def test_files_that_cannot_be_read_are_refused_and_nothing_is_stored(tenants, content, message):
    upload = settlement_file([])
    upload.seek(0)
    upload.truncate()
    upload.write(content)
    upload.seek(0)
    answer = tenants.acme.post("/api/reconciliations/", {"file": upload, "organization_id": "org-acme"},
                               format="multipart")
    assert answer.status_code == 400, answer.json()
    assert message in answer.json()["error"]["message"]
    assert not Reconciliation.objects.exists() and not SettlementChunk.objects.exists()


def test_another_organizations_import_is_refused(tenants):
    answer = tenants.acme.post("/api/reconciliations/", {"file": settlement_file([]), "organization_id": "org-globex"},
                               format="multipart")
    assert answer.status_code == 403
