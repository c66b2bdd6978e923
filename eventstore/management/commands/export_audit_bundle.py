from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from eventstore.actors import management_command
from eventstore.exports import record_export
from eventstore.ledger.bundle import NothingToExport, Selection, export_audit_bundle
from eventstore.ledger.service import latest_head


def aware(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not an ISO 8601 date or time, e.g. 2026-01-31 or 2026-01-31T12:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Write an audit bundle (a .zip): the selected streams' events with proofs against the newest signed head, "
        "the head, the public key, a README for auditors and a standalone verifier. Without a selection: the whole ledger."
    )

    def add_arguments(self, parser):
        parser.add_argument("out", type=Path, help="The archive to write, e.g. audit.zip.")
        parser.add_argument("--organization", help="Streams with an event of this organization.")
        parser.add_argument("--from", dest="since", type=aware, help="Streams with an event recorded at or after this.")
        parser.add_argument("--to", dest="until", type=aware, help="Streams with an event recorded before this.")
        parser.add_argument("--payment", "--stream", dest="stream_id", help="One stream (a payment's id is its stream id).")
        parser.add_argument("--no-progress", action="store_true", help="Do not draw a progress bar.")

    def handle(self, *args, out, organization, since, until, stream_id, no_progress, **options):
        selection = Selection(organization_id=organization, since=since, until=until, stream_id=stream_id)
        head = latest_head()
        total = head.tree_size if head and selection.whole_ledger else None
        try:
            with tqdm(total=total, unit="event", disable=no_progress, file=self.stderr._out) as bar:
                manifest = export_audit_bundle(out, selection, on_progress=bar.update)
        except NothingToExport as error:
            raise CommandError(str(error)) from None
        record_export(actor=management_command("export_audit_bundle"), kind="audit_bundle", source="ledger",
                      export_format="zip", filters={"tree_size": manifest["tree_size"], **manifest["selection"]},
                      row_count=manifest["event_count"],
                      organization_ids=[organization] if organization else None)
        self.stdout.write(self.style.SUCCESS(
            f"Wrote {out}: {manifest['event_count']} events of {manifest['stream_count']} streams against the head of "
            f"{manifest['tree_size']} events. Check it anywhere: unzip it and run python verify.py in it."
        ))
