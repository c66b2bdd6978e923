"""The statement that balances and proves itself (opening balance, movements, closing balance, each
line's ledger index and hash, the signed head that holds them) beside today's statement, the same
month's movements and totals as the hand-written SQL of bench_business_time, at a million events
under a signed head; and what the auditor's offline recomputation costs beside a plain read of the
bundle's events."""

import subprocess
import sys
import time
import zipfile
from datetime import timedelta

import psycopg
import pytest
from django.db import connection

from analytics.projections import DailyTotalsProjection
from analytics.statements import opening_query, period_statement, statement_json
from eventstore.ledger import service as ledger
from eventstore.ledger.bundle import Selection, export_audit_bundle
from eventstore.projections.engine import apply_pending
from tests.benchmarks.history import ORGANIZATIONS, YEAR_START, year_of_history
from tests.benchmarks.measure import Comparison, psycopg_settings
from tests.benchmarks.test_analytics import median_seconds, show_plan
from tests.benchmarks.test_business_time import HAND_SQL, TYPES, with_business_time
from tests.synthetic import indexes_built_after, load_history

pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600), pytest.mark.django_db(transaction=True)]

FULL = dict(payments=100_000, events_per_payment=10, runs=5)
QUICK = dict(payments=5000, events_per_payment=10, runs=2)
BUSINESS = "eventstore_business_time(data, recorded_at)"
# The same balances asked by hand: the month's lines with their leaves, and the sums before it.
BALANCES_SQL = f"""SELECT {BUSINESS}, recorded_at, stream_id, event_type, event_id, e.position, (data->>'amount')::numeric,
                          data->>'currency', entry.ledger_index, hash
                   FROM eventstore_event AS e LEFT JOIN eventstore_ledgerentry AS entry ON entry.position = e.position
                   WHERE metadata->>'organization_id' = %s AND event_type = ANY(%s)
                     AND {BUSINESS} >= %s AND {BUSINESS} < %s AND recorded_at <= %s ORDER BY 1, e.position;
                   SELECT data->>'currency', event_type, sum((data->>'amount')::numeric), count(*)
                   FROM eventstore_event WHERE metadata->>'organization_id' = %s AND event_type = ANY(%s)
                     AND {BUSINESS} < %s AND recorded_at <= %s GROUP BY 1, 2"""


def test_statement_with_balances_beside_todays_statement(bench, size, ledger_key, tmp_path):
    total = size.payments * size.events_per_payment
    bench.describe_data(f"{total:,} events over {size.payments:,} payments, {len(ORGANIZATIONS)} organizations and a "
                        f"year of business time, daily totals caught up, every event in the ledger under a signed head; "
                        f"medians of {size.runs} runs")
    bench.say(f"Loading {total:,} events with business time...")
    with indexes_built_after():
        load_history(with_business_time(year_of_history(size.payments, size.events_per_payment)))
    apply_pending(DailyTotalsProjection(), batch_size=5000)  # the opening balances' daily totals
    started = time.monotonic()
    assert ledger.sign_tree_head() is not None
    bench.say(f"ledger extended and signed in {time.monotonic() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE eventstore_event")
        cursor.execute("VACUUM ANALYZE eventstore_ledgerentry")
        cursor.execute("VACUUM ANALYZE analytics_dailytotal")

    organization = ORGANIZATIONS[3]
    month = (YEAR_START + timedelta(days=120), YEAR_START + timedelta(days=150))
    known_at = YEAR_START + timedelta(days=400)  # every event known: the whole opening balance counts
    params = (organization, TYPES, *month, known_at)
    statement = period_statement(organization_id=organization, since=month[0], until=month[1], known_at=known_at)
    assert statement.tree_head is not None and statement.totals[0].opening_events > 0
    opening_events = sum(totals.opening_events for totals in statement.totals)
    described = (f"statement with opening and closing balances, ledger places and signed head ({len(statement.lines):,} "
                 f"lines, {opening_events:,} events in its opening balances)")
    with psycopg.connect(**psycopg_settings()) as raw:
        ours = median_seconds(lambda: period_statement(organization_id=organization, since=month[0], until=month[1],
                                                       known_at=known_at), size.runs)
        today = median_seconds(lambda: [raw.execute(part, params).fetchall() for part in HAND_SQL["statement"].split(";")],
                               size.runs)
        lines, opening = BALANCES_SQL.split(";")
        by_hand = median_seconds(lambda: (raw.execute(lines, params).fetchall(),
                                          raw.execute(opening, (organization, TYPES, month[0], known_at)).fetchall()),
                                 size.runs)
        bench.report(Comparison(described, "ms", ours * 1000, today * 1000,
                                "today's statement: movements and totals only (hand-written SQL, psycopg)",
                                higher_is_better=False))
        bench.report(Comparison(described, "ms", ours * 1000, by_hand * 1000,
                                "the same balances and leaves (hand-written SQL, psycopg)", higher_is_better=False))
        show_plan(bench, raw, *opening_query(organization_id=organization, since=month[0], known_at=known_at))

    bench.say(f"Exporting {organization}'s audit bundle...")
    export_audit_bundle(tmp_path / "bundle.zip", Selection(organization_id=organization))
    (tmp_path / "statement.json").write_text(statement_json(statement))
    verifier = tmp_path / "verify.py"
    with zipfile.ZipFile(tmp_path / "bundle.zip") as archive:
        verifier.write_bytes(archive.read("verify.py"))
    started = time.monotonic()
    check = subprocess.run([sys.executable, "-I", str(verifier), str(tmp_path / "bundle.zip"), "--statement",
                            str(tmp_path / "statement.json")], capture_output=True, text=True)
    both = time.monotonic() - started
    assert check.returncode == 0, check.stderr
    started = time.monotonic()
    alone = subprocess.run([sys.executable, "-I", str(verifier), str(tmp_path / "bundle.zip")], capture_output=True,
                           text=True)
    verify_only = time.monotonic() - started
    assert alone.returncode == 0, alone.stderr
    bench.report(Comparison(f"offline verification of {organization}'s bundle with the statement recomputed "
                            f"({opening_events + len(statement.lines):,} events counted)", "s", both, verify_only,
                            "the same verification without the statement", higher_is_better=False))
