"""`manage.py rebuild_projections [NAME ...]`: replay history into fresh read models, swapped in atomically."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from eventstore.projections import engine as projections
from eventstore.projections import rebuild as projection_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild projections from position 0 beside the live read models and swap them in when caught up; "
        "readers never see a half-built table. Interrupt and rerun to resume (--restart starts over)."
    )

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="Projections to rebuild (default: all).")
        parser.add_argument("--restart", action="store_true", help="Discard an interrupted rebuild and start over.")
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, names, restart, batch_size, no_progress, **options):
        known = projections.registered()
        unknown = sorted(set(names) - set(known))
        if unknown:
            raise CommandError(f"Unknown projection(s): {', '.join(unknown)}. Known: {', '.join(sorted(known))}.")
        for name in names or sorted(known):
            self._rebuild(known[name], restart, batch_size, no_progress)

    def _rebuild(self, projection, restart, batch_size, no_progress):
        with tqdm(desc=projection.name, unit="event", disable=no_progress, file=self.stderr._out) as bar:
            def on_progress(progress):
                bar.total = progress.total
                bar.n = progress.applied
                bar.refresh()

            progress = projection_rebuild.rebuild(projection, batch_size=batch_size, restart=restart, on_progress=on_progress)
        self.stdout.write(self.style.SUCCESS(
            f"{projection.name}: rebuilt from {progress.applied} events and swapped in."
        ))
