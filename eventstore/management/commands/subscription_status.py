"""`manage.py subscription_status`: every subscription's lag, delivery rate and last error."""

from django.core.management.base import BaseCommand

from eventstore.delivery import lag as subscription_lag


class Command(BaseCommand):
    help = ("Show each subscription (webhook endpoints included): events and seconds behind, deliveries per "
            "second and failures over the last five minutes, and its last error.")

    def handle(self, *args, **options):
        self.stdout.write(f"{'subscription':<24}{'behind':>10}{'seconds':>10}{'delivered':>12}{'per s':>8}"
                          f"{'failed':>8}  state")
        for lag in subscription_lag.lag():
            state = "paused" if lag.paused else "ok" if not lag.last_error else "FAILING"
            self.stdout.write(
                f"{lag.name:<24}{lag.events_behind:>10}{lag.seconds_behind:>10.1f}{lag.events_delivered:>12}"
                f"{lag.deliveries_per_second:>8.1f}{lag.failures:>8}  {state}  {lag.url}")
            if lag.last_error:
                self.stdout.write(self.style.ERROR(f"  last error at {lag.last_error_at:%Y-%m-%d %H:%M:%S %Z}: "
                                                   f"{lag.last_error[:200]}"))
