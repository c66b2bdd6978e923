"""`manage.py bench_chaos [--seconds S] [--fault-every S] [--outage-seconds S]`"""

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from eventstore.benchmarking import Comparison, describe_data, report

BASELINE = "the outage itself"


class Command(BaseCommand):
    help = (
        "A chaos run (python -m config.chaos) on its own stack; the time from each fault until a new command "
        "succeeds again, beside the outage itself (how much longer than the outage recovery takes)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=float, default=60)
        parser.add_argument("--fault-every", type=float, default=10)
        parser.add_argument("--outage-seconds", type=float, default=3)
        parser.add_argument("--concurrency", type=int, default=6)

    def handle(self, *args, seconds, fault_every, outage_seconds, concurrency, **options):
        with tempfile.TemporaryDirectory() as scratch:
            summary_file = Path(scratch) / "summary.json"
            self._run_chaos(summary_file, seconds, fault_every, outage_seconds, concurrency)
            summary = json.loads(summary_file.read_text())
        describe_data(
            f"{summary['commands']:,} commands through the API over {seconds:g}s from {concurrency} clients, "
            f"{summary['accepted']:,} answered 201 or 200 (replays included), {summary['events']:,} events written; {len(summary['faults'])} faults, each "
            f"{outage_seconds:g}s down; every consistency check {'passed' if summary['passed'] else 'FAILED'}"
        )
        for kind in dict.fromkeys(fault["kind"] for fault in summary["faults"]):
            recoveries = [f["recovery_seconds"] for f in summary["faults"] if f["kind"] == kind and f["recovery_seconds"]]
            if recoveries:
                report(self.stdout, Comparison(f"recovery after {kind} (median)", "s", statistics.median(recoveries),
                                               outage_seconds, BASELINE, higher_is_better=False))
        if not summary["passed"]:
            raise CommandError("The chaos run failed its checks; see its report above.")

    def _run_chaos(self, summary_file: Path, seconds, fault_every, outage_seconds, concurrency) -> None:
        command = [sys.executable, "-m", "config.chaos", "--seconds", str(seconds), "--fault-every", str(fault_every),
                   "--outage-seconds", str(outage_seconds), "--concurrency", str(concurrency),
                   "--summary", str(summary_file)]
        done = subprocess.run(command, cwd=settings.BASE_DIR, capture_output=True, text=True)
        self.stdout.write(done.stdout[done.stdout.find("commands sent"):].rstrip())
        if not summary_file.exists():
            raise CommandError(f"The chaos run did not finish:\n{done.stdout}{done.stderr}")
