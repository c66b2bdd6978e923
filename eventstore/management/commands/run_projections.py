"""`manage.py run_projections`: the catch-up loop as a plain process (the worker runs it as a workflow)."""

from django.core.management.base import BaseCommand

from eventstore import wakeups
from eventstore.projections import engine as projections


class Command(BaseCommand):
    help = (
        "Apply pending events to every projection from its checkpoint. Without --until-caught-up it keeps "
        "following the store; stop it any time (even with SIGKILL): nothing is applied twice or skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--until-caught-up", action="store_true", help="Exit once nothing is pending.")
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--idle-pause", type=float, default=0.2, help="Seconds between polls when idle (new commits wake it at once).")

    def handle(self, *args, until_caught_up, batch_size, idle_pause, **options):
        while True:
            seen = wakeups.notifications_seen()
            outcomes = projections.apply_all_pending(batch_size=batch_size, max_batches=1)
            for name, outcome in outcomes.items():
                if outcome.applied:
                    self.stdout.write(f"{name}: +{outcome.applied}")
            if any(outcome.applied or outcome.busy for outcome in outcomes.values()):
                continue
            if until_caught_up:
                return
            wakeups.wait_for_events(seen, idle_pause)
