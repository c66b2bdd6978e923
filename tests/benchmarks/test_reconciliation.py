"""Reconciliation of a settlement file through ReconciliationWorkflow (import: hash and chunks;
then reading, matching and the findings), in lines per second, beside a plain `csv.reader` pass over
the same file in the same run: what reading, checking, storing and matching every line costs."""

import csv
import time
from datetime import UTC, datetime, timedelta

import pytest

from eventstore.actors import Actor
from payments.models import Organization
from payments.reconciliation import services
from payments.reconciliation.models import Reconciliation
from tests.benchmarks.measure import Comparison
from tests.payments.reconciliation.settlement_files import NATIVE_HEADER
from tests.synthetic import SyntheticEvent, load_history

pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600), pytest.mark.django_db(transaction=True)]

FULL = dict(lines=100_000)
QUICK = dict(lines=10_000)
ORGANIZATION = "org-bench"
DAY = datetime(2026, 11, 2, 10, tzinfo=UTC)
REFUND_EVERY = 10  # one payment in ten refunded: its refund is a line of its own


def trail(payments: int):
    """Each payment's PaymentProcessed (and for one in REFUND_EVERY its PaymentRefunded) in the store."""
    for index in range(payments):
        payment_id = f"payment-bench-{index:07d}"
        data = {"payment_id": payment_id, "organization_id": ORGANIZATION, "user_id": "user-bench",
                "amount": "100.00", "currency": "EUR", "occurred_at": DAY.isoformat()}
        metadata = {"organization_id": ORGANIZATION, "schema_version": 2}
        yield SyntheticEvent(payment_id, "PaymentProcessed", data, DAY, metadata)
        if index % REFUND_EVERY == 0:
            refund = {**data, "amount": "25.00", "refunded_total": "25.00",
                      "occurred_at": (DAY + timedelta(hours=2)).isoformat()}
            yield SyntheticEvent(payment_id, "PaymentRefunded", refund, DAY + timedelta(hours=2), metadata)


def write_file(path, payments: int) -> int:
    """The provider's lines for that trail, a few of them off (1 in 1000 settled for one cent more)."""
    lines = 0
    with open(path, "w") as file:
        file.write(NATIVE_HEADER + "\n")
        for index in range(payments):
            gross = "100.01" if index % 1000 == 999 else "100.00"
            net = f"{float(gross) - 1.4:.2f}"
            file.write(f"payment-bench-{index:07d},charge,{gross},1.40,{net},EUR,2026-11-02,po_1,ch_{index}\n")
            lines += 1
            if index % REFUND_EVERY == 0:
                file.write(f"payment-bench-{index:07d},refund,-25.00,0.00,-25.00,EUR,2026-11-02,po_1,re_{index}\n")
                lines += 1
    return lines


def test_reconciliation_beside_a_plain_csv_parse(bench, size, temporal, tmp_path):
    payments = size.lines * REFUND_EVERY // (REFUND_EVERY + 1)
    bench.say(f"Loading {payments:,} payments...")
    load_history(trail(payments))
    path = tmp_path / "settlement.csv"
    lines = write_file(path, payments)
    bench.describe_data(f"a settlement file of {lines:,} lines ({path.stat().st_size / 1e6:.1f} MB) over {payments:,} "
                        "payments, one line in a thousand off by a cent; one run each")

    started = time.perf_counter()
    with open(path, newline="") as file:
        parsed = sum(1 for _ in csv.reader(file)) - 1
    parse_seconds = time.perf_counter() - started
    assert parsed == lines

    organization = Organization.objects.create(id=ORGANIZATION, name="Bench")
    started = time.perf_counter()
    with open(path, "rb") as upload:
        run = services.import_settlement_file(organization=organization, upload=upload, file_name=path.name,
                                              actor=Actor(kind="user", id="0", name="bench", channel="api"))
    run = _completed(run.reconciliation.pk)
    seconds = time.perf_counter() - started
    assert run.status == Reconciliation.Status.COMPLETED, run.error
    counts = {row["outcome"]: row["count"] for row in run.summary}
    assert counts == {"matched": lines - payments // 1000, "amount_mismatch": payments // 1000}
    bench.report(Comparison("reconciliation (import, workflow, findings)", "lines/s", lines / seconds,
                            parsed / parse_seconds, "csv.reader over the same file"))


def _completed(reconciliation_id: int, timeout: float = 1800) -> Reconciliation:
    deadline = time.monotonic() + timeout
    while True:
        run = Reconciliation.objects.get(pk=reconciliation_id)
        if run.status in (Reconciliation.Status.COMPLETED, Reconciliation.Status.FAILED) or time.monotonic() > deadline:
            return run
        time.sleep(0.2)
