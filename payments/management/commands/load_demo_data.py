"""`manage.py load_demo_data`: a few hundred payments through the real pipeline (make run does this once)."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from eventstore.temporal import TemporalUnavailable, shared_client, shared_loop
from eventstore.models import Stream
from payments import demo


class Command(BaseCommand):
    help = (
        "Load demo payments (several organizations and currencies, refunds, cancellations and refused "
        "commands) by running real commands through Temporal. Safe to rerun: commands carry idempotency keys."
    )

    def add_arguments(self, parser):
        parser.add_argument("--payments", type=int, default=300)
        parser.add_argument("--concurrency", type=int, default=20)
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when demo payments exist.")

    def handle(self, *args, payments, concurrency, if_empty, **options):
        if if_empty and Stream.objects.filter(stream_id__startswith=demo.DEMO_PREFIX).exists():
            self.stdout.write("Demo payments are already loaded.")
            return
        try:
            client = shared_client()
        except TemporalUnavailable as error:
            raise CommandError(str(error)) from None
        with tqdm(total=payments, unit="payment", desc="demo payments", file=self.stderr._out) as bar:
            results = shared_loop().run(
                demo.load(client, payments=payments, concurrency=concurrency, on_payment_done=bar.update)
            )
        accepted = sum(result.success for result in results)
        self.stdout.write(self.style.SUCCESS(
            f"Loaded {payments} demo payments: {len(results)} commands, {accepted} accepted, "
            f"{len(results) - accepted} refused by the business rules."
        ))
