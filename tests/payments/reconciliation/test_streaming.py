"""A long settlement file is streamed: stored in chunks and reconciled batch by batch, the process
never holding the file (tracemalloc's peak stays well under its size).

Here 10,000 lines in chunks of 250 and batches of 100 rows, so that the file is many chunks long
within the test suite's time (tracemalloc slows allocation-heavy code tenfold); the benchmark
(tests/benchmarks/test_reconciliation.py) runs 100,000 lines through the workflow with the default
sizes."""

import tracemalloc

import pytest
from temporalio.testing import ActivityEnvironment

from eventstore.actors import Actor
from payments.models import Organization
from payments.reconciliation import activities, selectors, services
from payments.reconciliation.messages import ChunkRequest, ReconciliationRequest
from payments.reconciliation.models import Reconciliation
from tests.payments.reconciliation.settlement_files import NATIVE_HEADER, record_payment

pytestmark = pytest.mark.django_db(transaction=True)

LINES = 10_000
PAYMENTS = 100
CHUNK_LINES = 250
STREAMED_ROWS = 100


DESCRIPTION = "Card payment with Visa ending 4242 for customer 8812-3391 and order web-2026-11 in its own words " * 2


def write_settlement_file(path, lines: int, payments: int) -> None:
    """Each payment's charge, then the provider's fee lines naming the payments, to `lines` lines; with
    a description column, as providers' reports have, which the mapping leaves aside."""
    with open(path, "w") as file:
        file.write(NATIVE_HEADER + ",description\n")
        for index in range(payments):
            file.write(f"payment-long-{index:05d},charge,100.00,1.00,99.00,EUR,2026-11-02,po_1,ch_{index},"
                       f"{DESCRIPTION}\n")
        for index in range(lines - payments):
            file.write(f"payment-long-{index % payments:05d},fee,0.00,0.10,-0.10,EUR,2026-11-02,po_1,fee_{index},"
                       f"{DESCRIPTION}\n")


def test_a_long_file_streams_with_bounded_memory(tmp_path, monkeypatch):
    """The activities run here, one after the other as the workflow runs them, so that tracemalloc
    sees their allocations and not those of a worker's sandbox."""
    monkeypatch.setattr(services, "CHUNK_LINES", CHUNK_LINES)
    monkeypatch.setattr(selectors, "STREAMED_ROWS", STREAMED_ROWS)
    monkeypatch.setattr(services.client, "start_reconciliation", lambda reconciliation_id, key, actor: "not started")
    organization = Organization.objects.create(id="org-long", name="Long")
    for index in range(PAYMENTS):
        record_payment(f"payment-long-{index:05d}", "org-long", "100.00", "EUR", "2026-11-02")
    warm_up, path = tmp_path / "warm-up.csv", tmp_path / "settlement.csv"
    write_settlement_file(warm_up, CHUNK_LINES + 50, PAYMENTS)
    write_settlement_file(path, LINES, PAYMENTS)
    environment = ActivityEnvironment()
    _reconcile(environment, organization, warm_up)  # what every run allocates once (caches) is not counted
    tracemalloc.start()
    try:
        request, facts, outcome = _reconcile(environment, organization, path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = path.stat().st_size
    run = Reconciliation.objects.get(pk=request.reconciliation_id)
    assert facts.chunks == LINES // CHUNK_LINES
    assert (run.lines_total, run.lines_read, run.lines_matched) == (LINES, LINES, LINES)
    assert {row["outcome"]: row["count"] for row in outcome.summary} == {"matched": PAYMENTS, "fee": LINES - PAYMENTS}
    assert outcome.file_totals == {"EUR": {"gross": f"{PAYMENTS * 100}.00",
                                           "fee": f"{PAYMENTS + (LINES - PAYMENTS) / 10:.2f}",
                                           "net": f"{PAYMENTS * 99 - (LINES - PAYMENTS) / 10:.2f}"}}
    assert peak < size / 4, f"peak {peak} bytes for a file of {size}"  # each stage holds a chunk or a batch


def _reconcile(environment: ActivityEnvironment, organization: Organization, path):
    """Import the file and run the workflow's activities over it, in its order."""
    with open(path, "rb") as upload:
        imported = services.import_settlement_file(organization=organization, upload=upload, file_name=path.name,
                                                   actor=Actor(kind="user", id="1", name="test", channel="api"))
    request = ReconciliationRequest(imported.reconciliation.pk)
    facts = environment.run(activities.begin_reconciliation, request)
    for index in range(facts.chunks):
        environment.run(activities.read_settlement_chunk, ChunkRequest(request.reconciliation_id, index))
    return request, facts, environment.run(activities.match_settlement, request)
