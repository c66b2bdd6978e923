"""Reconciliation in the admin, as finance staff use it: import, progress, findings, resolve, export;
another organization's staff see nothing of it."""

import time

import pytest
from django.test import Client

from eventstore.selectors import read_stream
from payments.reconciliation.models import Reconciliation
from tests.admin_users import finance_user
from tests.payments.reconciliation.settlement_files import native_line, record_payment, settlement_file

pytestmark = pytest.mark.django_db(transaction=True)


def test_finance_staff_import_resolve_and_export(temporal):
    fiona, gustav = Client(), Client()
    fiona.force_login(finance_user("fiona", ["org-acme"]))
    gustav.force_login(finance_user("gustav", ["org-globex"]))
    record_payment("payment-a1", "org-acme", "100.00", "EUR", "2026-11-02")
    record_payment("payment-a2", "org-acme", "200.00", "EUR", "2026-11-03")
    upload = settlement_file([native_line("payment-a1", "charge", "100.00", "1.00", "99.00", day="2026-11-02"),
                              native_line("payment-a2", "charge", "250.00", "1.00", "249.00", day="2026-11-03")])

    form = fiona.get("/admin/payments/reconciliation/add/")
    assert form.status_code == 200 and b"org-globex" not in form.content
    answer = fiona.post("/admin/payments/reconciliation/add/", {"file": upload, "organization": "org-acme",
                                                                 "mapping": "auto"})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    run = Reconciliation.objects.get()
    assert answer["Location"] == f"/admin/payments/reconciliation/{run.pk}/change/"
    deadline = time.monotonic() + 30
    while Reconciliation.objects.get().status != "completed" and time.monotonic() < deadline:
        time.sleep(0.1)
    page = fiona.get(answer["Location"]).content.decode()
    assert "Completed" in page and "Amount mismatch" in page and "The file says 250.00 EUR" in page

    resolved = fiona.post(f"/admin/payments/reconciliation/{run.pk}/findings/1/resolve/",
                          {"note": "Surcharge agreed with the customer."}, follow=True)
    assert "Finding 1 resolved" in resolved.content.decode()
    assert "Surcharge agreed" in fiona.get(f"{answer['Location']}?show=all").content.decode()
    event = list(read_stream(run.stream_id))[-1]
    assert (event.event_type, event.metadata["actor"]["name"], event.metadata["actor"]["channel"]) == (
        "ReconciliationFindingResolved", "fiona", "admin")
    exported = fiona.get(f"/admin/payments/reconciliation/{run.pk}/findings.csv")
    assert "Surcharge agreed" in b"".join(exported.streaming_content).decode()

    assert gustav.get(answer["Location"]).status_code == 404
    assert gustav.get(f"/admin/payments/reconciliation/{run.pk}/findings.csv").status_code == 404
    assert gustav.post(f"/admin/payments/reconciliation/{run.pk}/findings/1/resolve/", {"note": "x"}).status_code == 404
    assert "settlement.csv" not in gustav.get("/admin/payments/reconciliation/").content.decode()
