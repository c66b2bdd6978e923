"""`manage.py projection_status`: every projection's lag, open errors and the events set aside."""

from django.core.management.base import BaseCommand

from eventstore.projections import engine as projections
from eventstore.projections import lag as projection_lag
from eventstore.projections.models import ProjectionError
from eventstore.projections.set_aside import set_aside_events


class Command(BaseCommand):
    help = ("Show each projection's checkpoint, lag (events and seconds behind), unresolved errors and the "
            "events set aside, which it passes over.")

    def add_arguments(self, parser):
        parser.add_argument("--apply", action="store_true", help="Apply pending events first.")

    def handle(self, *args, apply, **options):
        if apply:
            for name, outcome in projections.apply_all_pending().items():
                self.stdout.write(f"{name}: applied {outcome.applied}")
        self.stdout.write(f"{'projection':<24}{'position':>12}{'applied':>12}{'behind':>10}{'seconds':>10}  state")
        for lag in projection_lag.lag():
            state = f"STOPPED at position {lag.failing_position}" if lag.failing_position else "ok"
            if lag.set_aside:
                state += f", {lag.set_aside} set aside"
            self.stdout.write(
                f"{lag.name:<24}{lag.position:>12}{lag.events_applied:>12}{lag.events_behind:>10}"
                f"{lag.seconds_behind:>10.1f}  {state}"
            )
        for error in ProjectionError.objects.filter(resolved_at__isnull=True):
            self.stdout.write(self.style.ERROR(f"  {error} (position {error.position}, {error.attempts} attempts)"))
        records = set_aside_events()
        if records:
            self.stdout.write("Set aside (passed over by their projection):")
        for record in records:
            self.stdout.write(self.style.WARNING(
                f"  {record.projection}: position {record.position}, {record.stream_id} v{record.version} "
                f"{record.event_type}, by {record.set_aside_by} at {record.set_aside_at:%Y-%m-%d %H:%M:%S %Z}: "
                f"{record.reason} (error: {record.error[:120]})"))
