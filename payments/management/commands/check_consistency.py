"""`manage.py check_consistency [--ledger FILE] [--projection-timeout S] [--json]`"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from eventstore.integrity.verification import Check
from payments import system_checks


class Command(BaseCommand):
    help = (
        "Check the whole system: contiguous stream versions, the hash chain, projections caught up and "
        "equal to a fold of the events; with --ledger, that every command has exactly its events. "
        "Exit 1 on any problem."
    )

    def add_arguments(self, parser):
        parser.add_argument("--ledger", type=Path, help='JSON list of {"key", "outcome", "event_ids"} per command sent.')
        parser.add_argument("--projection-timeout", type=float, default=120.0, help="Seconds to wait for zero lag.")
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print the results as one JSON object.")

    def handle(self, *args, ledger, projection_timeout, as_json: bool, **options):
        entries = _read_ledger(ledger) if ledger else None
        checks = system_checks.run_all(entries, projection_timeout=projection_timeout)
        if as_json:
            self.stdout.write(_as_json(checks))
        else:
            for check in checks:
                self._print(check)
        if not all(check.ok for check in checks):
            raise SystemExit(1)

    def _print(self, check: Check) -> None:
        figures = ", ".join(f"{name} {value}" for name, value in check.figures.items())
        mark = self.style.SUCCESS("ok  ") if check.ok else self.style.ERROR("FAIL")
        self.stdout.write(f"{mark} {check.name} ({figures})")
        for problem in check.problems:
            self.stdout.write(f"       {problem}")


def _read_ledger(path: Path) -> list[dict]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise CommandError(f"Cannot read the ledger {path}: {error}") from error


def _as_json(checks: list[Check]) -> str:
    return json.dumps([{"name": c.name, "ok": c.ok, "problems": c.problems, "figures": c.figures} for c in checks])
