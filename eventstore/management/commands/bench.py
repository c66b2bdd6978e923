"""`manage.py bench` (make bench): every app's benchmarks, one after another."""

import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from eventstore.benchmark_report import write_report
from eventstore.benchmarking import SECTIONS, begin_section

BENCHMARKS = {
    "bench_eventstore": ["--appends", "200", "--batches", "2", "--rounds", "1", "--plan-events", "20000"],
    "bench_payments": ["--commands", "100", "--serial", "10", "--rounds", "1"],
    "bench_projections": ["--events", "50000", "--stream-events", "2000"],
    "bench_analytics": ["--payments", "5000", "--runs", "2"],
    "bench_admin": ["--payments", "5000", "--runs", "2"],
    "bench_api": ["--payments", "2000", "--seconds", "3"],
    "bench_chaos": ["--seconds", "32", "--outage-seconds", "2"],
}


class Command(BaseCommand):
    help = "Run every benchmark of the project; each prints its figures beside a same-run baseline."

    def add_arguments(self, parser):
        parser.add_argument("--quick", action="store_true", help="Small sizes, for a smoke run.")
        parser.add_argument("--only", choices=list(BENCHMARKS), action="append", help="Run only these.")
        parser.add_argument("--report", type=Path, default=Path(settings.BASE_DIR) / "BENCHMARKS.md",
                            help="Where to write the report (default BENCHMARKS.md at the project root).")

    def handle(self, *args, quick, only, report, **options):
        started = time.monotonic()
        for name, quick_arguments in BENCHMARKS.items():
            if only and name not in only:
                continue
            self.stdout.write(self.style.MIGRATE_HEADING(f"== {name}"))
            section, section_started = begin_section(name), time.monotonic()
            call_command(name, *(quick_arguments if quick else []), stdout=self.stdout._out)
            section.seconds = time.monotonic() - section_started
        write_report(report, SECTIONS, command=_reproduce(quick, only), seconds=time.monotonic() - started)
        self.stdout.write(self.style.SUCCESS(f"\nReport written to {report}"))


def _reproduce(quick: bool, only: list[str] | None) -> str:
    arguments = (["--quick"] if quick else []) + [f"--only {name}" for name in only or []]
    return f"make bench BENCH_ARGS=\"{' '.join(arguments)}\"" if arguments else "make bench"
