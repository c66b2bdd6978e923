"""`manage.py bench` (make bench): every app's benchmarks, one after another."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

BENCHMARKS = {
    "bench_eventstore": ["--appends", "200", "--batches", "2", "--rounds", "1", "--plan-events", "20000"],
    "bench_payments": ["--commands", "100", "--serial", "10", "--rounds", "1"],
    "bench_projections": ["--events", "50000", "--stream-events", "2000"],
    "bench_analytics": ["--payments", "5000", "--runs", "2"],
    "bench_admin": ["--payments", "5000", "--runs", "2"],
    "bench_api": ["--payments", "2000", "--seconds", "3"],
}


class Command(BaseCommand):
    help = "Run every benchmark of the project; each prints its figures beside a same-run baseline."

    def add_arguments(self, parser):
        parser.add_argument("--quick", action="store_true", help="Small sizes, for a smoke run.")
        parser.add_argument("--only", choices=list(BENCHMARKS), action="append", help="Run only these.")

    def handle(self, *args, quick, only, **options):
        for name, quick_arguments in BENCHMARKS.items():
            if only and name not in only:
                continue
            self.stdout.write(self.style.MIGRATE_HEADING(f"== {name}"))
            call_command(name, *(quick_arguments if quick else []), stdout=self.stdout._out)
