"""What the scheduled work costs once the store is large: verification and signing after 1,000 new
events, each beside the same work over the whole store in the same run. The incremental pass against a
full pass (target at most 0.01x); signing a head, whose streams root is folded from the O(log n)
stored subtrees of the streams tree, against recomputing that root from every event (target at most
0.05x). Both roots are compared: they must be equal."""

import random
import time
import uuid

import pytest
from django.db import connection

from eventstore.events import ANY, NewEvent
from eventstore.integrity.incremental import verify_new_events
from eventstore.integrity.verification import verify_event_chain
from eventstore.ledger import service as ledger
from eventstore.store import append_events
from tests.benchmarks.measure import Comparison, timed
from tests.benchmarks.test_ledger import DATA, event_count, synthetic
from tests.synthetic import indexes_built_after, load_history

pytestmark = [pytest.mark.bench, pytest.mark.timeout(7200), pytest.mark.django_db(transaction=True)]

FULL = dict(events=5_000_000, new=1000)
QUICK = dict(events=50_000, new=1000)
VERIFY_TARGET, SIGN_TARGET = 0.01, 0.05


def test_verification_and_signing_after_new_events_on_a_large_store(bench, size, ledger_key):
    bench.describe_data(f"{size.events:,} events (5 per stream) loaded with COPY, ledgered and signed; then "
                        f"{size.new:,} new events through the append (half to existing streams, half in new streams "
                        "of 5), a head signed over them and an incremental pass")
    load(bench, size.events)
    total = event_count()
    extend = timed(ledger.extend_ledger)
    bench.say(f"ledger extended to {total:,} leaves in {extend:.0f}s ({total / extend:,.0f} events/s)")
    ledger.sign_tree_head()

    full = timed(lambda: verify_event_chain(against_published=True))
    bench.say(f"full pass over {total:,} events: {full:.1f}s")
    establishing = timed(lambda: verify_new_events(against_published=True))  # the first records the ledger verified
    bench.say(f"first incremental pass (recomputes every ledger leaf once): {establishing:.1f}s")

    append_new_events(size.new)
    started = time.perf_counter()
    head = ledger.sign_tree_head()
    signing = time.perf_counter() - started
    started = time.perf_counter()
    recomputed = ledger.streams_tree(ledger.streams_at(head.tree_size)).root().hex()
    recomputation = time.perf_counter() - started
    assert recomputed == head.streams_root
    bench.report(Comparison(f"signing a head after {size.new:,} new events at {total:,}", "s", signing,
                            recomputation, "streams root recomputed from every event", higher_is_better=False,
                            target=SIGN_TARGET))

    started = time.perf_counter()
    report = verify_new_events(against_published=True)
    incremental = time.perf_counter() - started
    assert report.ok and report.kind == "incremental" and report.events_checked >= size.new, report.problems
    assert (report.from_tree_size, report.tree_size) == (total, head.tree_size)
    bench.report(Comparison(f"verification after {size.new:,} new events at {total:,}", "s", incremental, full,
                            "full pass over every event", higher_is_better=False, target=VERIFY_TARGET))


def load(bench, events: int) -> None:
    missing = max(0, events - event_count())
    bench.say(f"Loading {missing:,} events...")
    started = time.perf_counter()
    with indexes_built_after():
        load_history(synthetic(missing))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE eventstore_event")
        cursor.execute("VACUUM ANALYZE eventstore_stream")
    bench.say(f"loaded and indexed in {time.perf_counter() - started:.0f}s")


def append_new_events(count: int) -> None:
    """Half of `count` single events to existing streams, the rest in new streams of five events."""
    chooser, run = random.Random(3), uuid.uuid4().hex[:8]
    with connection.cursor() as cursor:
        cursor.execute("SELECT stream_id FROM eventstore_stream ORDER BY random() LIMIT %s", [count // 2])
        existing = [row[0] for row in cursor.fetchall()]
    for _ in range(count // 2):
        append_events(stream_id=chooser.choice(existing), aggregate_type="Payment", expected_version=ANY,
                      events=[NewEvent("PaymentProcessed", DATA, {"correlation_id": "bench"})])
    for index in range((count - count // 2) // 5):
        append_events(stream_id=f"incremental-{run}-{index}", aggregate_type="Payment", expected_version=ANY,
                      events=[NewEvent("PaymentProcessed", DATA, {"correlation_id": "bench"}) for _ in range(5)])
