"""Findings and refusals in the reader's language and number format: the admin page, the API and the
export in French or English from the same stored code and parameters; findings stored before codes
show their English text as it is; the English text stays recorded with every finding."""

import csv
import io
import pickle

import pytest
from django.test import Client

from payments.reconciliation.matching import MESSAGES, Outcome
from payments.reconciliation.models import Finding
from payments.reconciliation.settlement_format import LINE_REFUSALS, LineRefused
from tests.admin_users import finance_user
from tests.payments.reconciliation.settlement_files import (
    native_line,
    record_payment,
    settlement_file,
    wait_for_run,
)

pytestmark = pytest.mark.django_db(transaction=True)

NARROW_NBSP, NBSP = "\N{NARROW NO-BREAK SPACE}", "\N{NO-BREAK SPACE}"
PERIOD = {"period_start": "2026-11-01", "period_end": "2026-11-30"}
OLD_TEXT = "Written before messages had codes: 12.00 EUR."


def euros(text: str) -> str:
    return f"{text.replace(' ', NARROW_NBSP)}{NBSP}€"


def french(text: str) -> str:
    """French typography: guillemets and colons with their no-break spaces as the catalog writes them."""
    return text.replace("« ", f"«{NBSP}").replace(" »", f"{NBSP}»")


@pytest.fixture
def run(temporal, tenants) -> dict:
    """A completed run of org-acme with an amount mismatch (1,234.50 in the file, 1,000.00 in the trail),
    a refund the file lacks, a line that cannot be read, and a finding stored before codes."""
    record_payment("payment-l1", "org-acme", "1000.00", "EUR", "2026-11-02", refunds=("250.00",))
    lines = [native_line("payment-l1", "charge", "1234.50", "10.00", "1224.50"),
             native_line("payment-l1", "refund", "-50.00", "0.00", "-50.00", day="2026-11-02X")]
    answer = tenants.acme.post("/api/reconciliations/", {"file": settlement_file(lines), **PERIOD},
                               format="multipart")
    assert answer.status_code == 201, answer.json()
    run = wait_for_run(tenants.acme, answer.json()["id"])
    assert run["status"] == "completed", run
    Finding.objects.create(reconciliation_id=run["id"], number=99, outcome=Outcome.NOT_IN_TRAIL, message=OLD_TEXT)
    return run


def test_findings_in_the_readers_language_in_the_admin_the_api_and_the_export(run, tenants):
    """One run read three ways (a run takes seconds: the three share it)."""
    _admin_pages(run)
    _api(run, tenants)
    _export(run, tenants)


def _admin_pages(run):
    reader = Client()
    reader.force_login(finance_user("fiona", ["org-acme"]))
    url = f"/admin/payments/reconciliation/{run['id']}/change/"

    english = reader.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The file says 1,234.50 EUR, the trail&#x27;s charge is 1,000.00 EUR." in english
    assert "The refund of 250.00 EUR on 2026-11-02 is in the trail but not in the file." in english
    assert "Line 3: booking date &#x27;2026-11-02X&#x27; is not a date such as 2024-03-05." in english
    assert OLD_TEXT in english

    page = reader.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert french(f"Le fichier indique {euros('1 234,50')} ; dans la piste, l’opération « paiement » est de "
                  f"{euros('1 000,00')}.") in page
    assert french(f"Opération « remboursement » de {euros('250,00')} du 02/11/2026 : dans la piste, mais pas "
                  "dans le fichier.") in page
    assert french("Ligne 3 : la date de comptabilisation « 2026-11-02X » n’est pas une date telle que "
                  "2024-03-05.") in page
    assert OLD_TEXT in page and "The file says" not in page


def _api(run, tenants):
    """In the request's language, with the code and parameters beside."""
    url = f"/api/reconciliations/{run['id']}/findings/"
    french_rows = {row["message_code"]: row for row in tenants.acme.get(url, HTTP_ACCEPT_LANGUAGE="fr").json()[
        "results"]}
    english_rows = {row["message_code"]: row for row in tenants.acme.get(url).json()["results"]}

    mismatch = french_rows["amount_mismatch"]
    assert mismatch["message_params"] == {"amount": "1234.50", "currency": "EUR", "kind": "charge",
                                          "trail_amount": "1000.00", "trail_currency": "EUR"}
    assert euros("1 234,50") in mismatch["message"] and euros("1 000,00") in mismatch["message"]
    assert english_rows["amount_mismatch"]["message"] == (
        "The file says 1,234.50 EUR, the trail's charge is 1,000.00 EUR.")
    assert french_rows["booking_date"]["message"].startswith("Ligne 3 : la date de comptabilisation")
    assert french_rows[""]["message"] == english_rows[""]["message"] == OLD_TEXT
    # what is stored and exported for machines stays English, written once when the run matched
    stored = Finding.objects.get(reconciliation_id=run["id"], message_code="amount_mismatch")
    assert stored.message == "The file says 1234.50 EUR, the trail's charge is 1000.00 EUR."


def _export(run, tenants):
    """In the downloader's language; figures stay machine-readable."""
    answer = tenants.acme.get(f"/api/reconciliations/{run['id']}/findings/export/", HTTP_ACCEPT_LANGUAGE="fr")
    assert answer.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode())))
    by_code = {row["message_code"]: row for row in rows}
    assert by_code["amount_mismatch"]["message"].startswith(f"Le fichier indique {euros('1 234,50')}")
    assert by_code["amount_mismatch"]["gross"] == "1234.50"
    assert by_code[""]["message"] == OLD_TEXT


def test_a_refused_file_is_explained_in_the_readers_language(tenants):
    refused = settlement_file([], header="ref,amount")
    answer = tenants.acme.post("/api/reconciliations/", {"file": refused, **PERIOD}, format="multipart",
                               HTTP_ACCEPT_LANGUAGE="fr")
    assert answer.status_code == 400
    assert answer.json()["error"]["message"].startswith(
        "Ligne 1 : les colonnes ne sont pas celles d’un fichier de règlement")

    reader = Client()
    reader.force_login(finance_user("fiona", ["org-acme"]))
    form = reader.post("/admin/payments/reconciliation/add/", {
        "file": settlement_file([]), "organization": "org-acme", "mapping": "adyen"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert form.status_code == 200
    assert "Ligne 1 : il manque à l’en-tête les colonnes adyen" in form.content.decode()


def test_each_finding_code_names_one_template():
    """Findings of matching and of lines that cannot be read share one column of codes."""
    assert not MESSAGES.keys() & LINE_REFUSALS.keys()


def test_a_refusal_keeps_its_code_and_parameters_when_copied():
    refusal = LineRefused("width", line=2, cells=3, width=8)
    copied = pickle.loads(pickle.dumps(refusal))
    assert (copied.code, copied.params, str(copied)) == ("width", {"line": 2, "cells": 3, "width": 8},
                                                         "Line 2: 3 cells where the header has 8.")
