from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from eventstore.integrity import count_events, verify_event_chain


class Command(BaseCommand):
    help = (
        "Re-check the SHA-256 chain of every stream and the recorded stream heads. Exits 1 and lists "
        "the problems when any event was edited, deleted, inserted or reordered."
    )

    def add_arguments(self, parser):
        parser.add_argument("--max-problems", type=int, default=100, help="How many problems to list (all are counted).")
        parser.add_argument("--no-progress", action="store_true", help="Do not draw a progress bar.")

    def handle(self, *args, max_problems, no_progress, **options):
        total = count_events()
        with tqdm(total=total, unit="event", disable=no_progress, file=self.stderr._out) as bar:
            report = verify_event_chain(on_progress=bar.update, max_problems=max_problems)
        summary = f"{report.events_checked} events in {report.streams_checked} streams checked"
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"OK: {summary}; every chain and stream head is intact."))
            return
        for problem in report.problems:
            self.stderr.write(f"  {problem}")
        hidden = report.problem_count - len(report.problems)
        if hidden:
            self.stderr.write(f"  ... and {hidden} more")
        raise CommandError(f"TAMPERING DETECTED: {report.problem_count} problems; {summary}.")
