"""Recovery under faults: a chaos run (tests.chaos.run, the stack of its own that `make chaos` brings
up) and, for each kind of fault, the time until a new command succeeds again, beside the outage itself
(how much longer than the outage recovery takes)."""

import json
import statistics
import subprocess
import sys

import pytest

from tests.benchmarks.measure import Comparison
from tests.processes import BASE_DIR

pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600)]

FULL = dict(seconds=60.0, fault_every=10.0, outage_seconds=3.0, concurrency=6)
QUICK = dict(seconds=32.0, fault_every=10.0, outage_seconds=2.0, concurrency=6)
CHAOS_RUN = "tests.chaos.run"  # `make chaos`; run as its own process, as it starts and kills processes
BASELINE = "the outage itself"


def test_recovery_after_each_kind_of_fault_beside_the_outage(bench, size, tmp_path):
    summary_file = tmp_path / "summary.json"
    command = [sys.executable, "-m", CHAOS_RUN, "--seconds", str(size.seconds), "--fault-every", str(size.fault_every),
               "--outage-seconds", str(size.outage_seconds), "--concurrency", str(size.concurrency),
               "--summary", str(summary_file)]
    done = subprocess.run(command, cwd=BASE_DIR, capture_output=True, text=True)
    bench.say(done.stdout[done.stdout.find("commands sent"):].rstrip())
    if not summary_file.exists():
        pytest.fail(f"The chaos run did not finish:\n{done.stdout}{done.stderr}")
    summary = json.loads(summary_file.read_text())
    bench.describe_data(
        f"{summary['commands']:,} commands through the API over {size.seconds:g}s from {size.concurrency} clients, "
        f"{summary['accepted']:,} answered 201 or 200 (replays included), {summary['events']:,} events written; "
        f"{len(summary['faults'])} faults, each {size.outage_seconds:g}s down; "
        f"every consistency check {'passed' if summary['passed'] else 'FAILED'}"
    )
    for kind in dict.fromkeys(fault["kind"] for fault in summary["faults"]):
        recoveries = [f["recovery_seconds"] for f in summary["faults"] if f["kind"] == kind and f["recovery_seconds"]]
        if recoveries:
            bench.report(Comparison(f"recovery after {kind} (median)", "s", statistics.median(recoveries),
                                    size.outage_seconds, BASELINE, higher_is_better=False))
    assert summary["passed"], "The chaos run failed its checks; see its report above."
