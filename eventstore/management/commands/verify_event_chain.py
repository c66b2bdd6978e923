from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from eventstore.integrity.incremental import verify_new_events
from eventstore.integrity.verification import count_events, verify_event_chain
from eventstore.ledger import verifier as ledger_verifier


class Command(BaseCommand):
    help = (
        "Re-check the SHA-256 chains and the recorded stream heads of what was appended since the last verified "
        "point (an incremental pass), or with --full of every event, the seals and that the ledger extends every "
        "published head (LEDGER_PUBLISHED_HEADS and those recorded). Exits 1 and lists the problems when any "
        "event checked was edited, deleted, inserted or reordered, or the database is behind a published head."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--full", action="store_true",
            help="Check every event, seal and kept head (the default checks what is new since the last clean run; "
                 "with no clean run yet, or with --expect-head, the pass is full).",
        )
        parser.add_argument("--max-problems", type=int, default=100, help="How many problems to list (all are counted).")
        parser.add_argument("--no-progress", action="store_true", help="Do not draw a progress bar.")
        parser.add_argument(
            "--expect-seal", metavar="HASH", help="A seal hash printed by an earlier run and kept outside the database."
        )
        parser.add_argument(
            "--expect-head", metavar="FILE", type=Path,
            help="Signed tree heads kept outside the database (one JSON object a line, as publish_tree_head "
                 "writes them): today's log must extend each.",
        )
        parser.add_argument("--no-seal", action="store_true", help="Do not record a seal after a clean run.")

    def handle(self, *args, full, max_problems, no_progress, no_seal, expect_seal, expect_head, **options):
        kept_heads = read_kept_heads(expect_head) if expect_head else None
        full = full or kept_heads is not None
        with tqdm(total=count_events() if full else None, unit="event", disable=no_progress,
                  file=self.stderr._out) as bar:
            if full:
                report = verify_event_chain(
                    on_progress=bar.update, max_problems=max_problems, seal=not no_seal, expected_seal=expect_seal,
                    expected_heads=kept_heads, against_published=True,
                )
            else:
                report = verify_new_events(on_progress=bar.update, max_problems=max_problems,
                                           expected_seal=expect_seal, against_published=True)
        summary = (
            f"{report.kind} pass: {report.events_checked} events in {report.streams_checked} streams and "
            f"{report.seals_checked} seals checked"
        )
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"OK: {summary}; every chain, stream head and seal is intact."))
            self._describe_seal(report.new_seal)
            return
        for problem in report.problems:
            self.stderr.write(f"  {problem}")
        hidden = report.problem_count - len(report.problems)
        if hidden:
            self.stderr.write(f"  ... and {hidden} more")
        raise CommandError(f"TAMPERING DETECTED: {report.problem_count} problems; {summary}.")

    def _describe_seal(self, seal):
        if seal is None:
            return
        self.stdout.write(
            f"Sealed {seal.event_count} events. Seal hash: {seal.hash}\n"
            "Keep this hash outside the database: a later run that ends on a different chain of seals "
            "means history was rewritten wholesale."
        )


def read_kept_heads(path: Path) -> list[dict]:
    try:
        return ledger_verifier.read_kept_heads(path)
    except (OSError, ValueError) as error:
        raise CommandError(f"cannot read kept heads from {path}: {error}") from None
