"""The verifiable ledger at scale, each figure beside a same-run baseline: tree maintenance against
the 8-thread append rate, inclusion and consistency proofs against a primary-key read of one event,
and exporting and verifying offline a bundle of the whole ledger against a plain ordered read."""

import random
import statistics
import tempfile
import time
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection

from eventstore.events import ANY, NewEvent
from eventstore.ledger import service as ledger
from eventstore.ledger import verifier as ledger_verifier
from eventstore.ledger.bundle import export_audit_bundle
from eventstore.store import append_events
from tests.benchmarks.measure import Comparison, timed
from tests.synthetic import SyntheticEvent, load_history
from tests.threads import in_threads

pytestmark = [pytest.mark.bench, pytest.mark.timeout(7200), pytest.mark.django_db(transaction=True)]

FULL = dict(events=1_000_000, appends=4000, proofs=300)
QUICK = dict(events=20_000, appends=400, proofs=50)
PROOF_TARGET_MS = 10
DATA = {"payment_id": "payment-bench", "organization_id": "org-1", "user_id": "user-7", "amount": "125.50",
        "currency": "EUR", "description": "Invoice 2024-118"}


def synthetic(count: int):
    start, run = datetime(2026, 1, 1, tzinfo=UTC), uuid.uuid4().hex[:8]
    for index in range(count):
        yield SyntheticEvent(f"ledger-{run}-{index // 5}", "PaymentProcessed", DATA, start + timedelta(seconds=index),
                             {"correlation_id": f"order-{index // 15}", "organization_id": f"org-{index % 10}"})


def event_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM eventstore_event")
        return cursor.fetchone()[0]


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def test_ledger_maintenance_proofs_and_bundles_at_scale(bench, size, ledger_key):
    bench.describe_data(f"{size.events:,} events (5 per stream) loaded with COPY; {size.appends:,} appends "
                        f"from 8 threads; {size.proofs} proofs of each kind at random sizes and leaves")
    append_rate = eight_thread_appends(size.appends)
    missing = max(0, size.events - event_count())
    bench.say(f"Loading {missing:,} events...")
    load_history(synthetic(missing))
    total = event_count()
    extend_seconds = timed(ledger.extend_ledger)
    bench.report(Comparison("ledger maintenance (leaves and nodes)", "events/s", total / extend_seconds, append_rate,
                            "single-event appends, 8 threads", target=1.0))
    plain = timed(plain_read)
    started = time.perf_counter()
    head = ledger.sign_tree_head()
    bench.report(Comparison(f"signing a head at {total:,} events (streams root included)", "s",
                            time.perf_counter() - started, plain, "plain ordered read of every event",
                            higher_is_better=False))
    assert head.tree_size == total
    proofs(bench, size.proofs, total)
    bundle(bench, total, plain)


def plain_read() -> None:
    with connection.chunked_cursor() as cursor:
        cursor.execute("SELECT * FROM eventstore_event ORDER BY position")
        while cursor.fetchmany(5000):
            pass


def eight_thread_appends(count: int) -> float:
    run, per_thread = uuid.uuid4().hex[:8], count // 8

    def work(thread):
        for index in range(per_thread):
            append_events(stream_id=f"appends-{run}-{thread}-{index % 50}", aggregate_type="Payment",
                          events=[NewEvent("PaymentProcessed", DATA, {"correlation_id": "bench"})],
                          expected_version=ANY)
    return per_thread * 8 / timed(lambda: in_threads(8, work))


def proofs(bench, count: int, total: int) -> None:
    chooser = random.Random(7)
    positions = [row for row in ledger_positions(chooser, count)]

    def one_event(position):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM eventstore_event WHERE position = %s", [position])
            cursor.fetchone()

    lookups, inclusions, consistencies = [], [], []
    for position in positions:
        index = chooser.randrange(total)
        lookups.append(timed(lambda: one_event(position)))
        inclusions.append(timed(lambda: ledger.inclusion_proofs([index], total)))
        first = chooser.randrange(1, total)
        consistencies.append(timed(lambda: ledger.consistency_proof(first, total)))
    baseline = median_ms(lookups)
    for name, samples in (("inclusion proof p50", inclusions), ("consistency proof p50", consistencies)):
        p50 = median_ms(samples)
        bench.say(f"{name}: {p50:.2f} ms at {total:,} events (target under {PROOF_TARGET_MS} ms: "
                  f"{'met' if p50 < PROOF_TARGET_MS else 'MISSED'})")
        bench.report(Comparison(f"{name} at {total:,} events", "ms", p50, baseline, "primary-key read of one event",
                                higher_is_better=False))


def ledger_positions(chooser: random.Random, count: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(position), max(position) FROM eventstore_event")
        low, high = cursor.fetchone()
    return [chooser.randint(low, high) for _ in range(count)]


def bundle(bench, total: int, plain: float) -> None:
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "bundle.zip"
        export = timed(lambda: export_audit_bundle(out))
        with zipfile.ZipFile(out) as archive:
            archive.extractall(Path(directory) / "bundle")
        started = time.perf_counter()
        assert ledger_verifier.main([str(Path(directory) / "bundle")]) == 0
        verify = time.perf_counter() - started
        bench.say(f"bundle of {total:,} events: {out.stat().st_size / 1e6:,.0f} MB; export {export:.1f}s, "
                  f"offline verification {verify:.1f}s, plain ordered read {plain:.1f}s")
    bench.report(Comparison("export of a whole-ledger bundle", "events/s", total / export, total / plain,
                            "plain ordered read"))
    bench.report(Comparison("offline verification of that bundle", "events/s", total / verify, total / plain,
                            "plain ordered read"))
    bench.report(Comparison("export + offline verification, end to end", "events/s", total / (export + verify),
                            total / plain, "plain ordered read", target=0.3))
