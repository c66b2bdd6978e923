"""`manage.py load_demo_data`: a year of demo business through the real pipeline (make run does this once)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from eventstore.models import Stream
from eventstore.temporal.connection import TemporalUnavailable, shared_client, shared_loop
from payments import demo
from payments.models import Organization


class Command(BaseCommand):
    help = (
        "Load demo payments over the last twelve months of business time (several organizations and "
        "currencies, refunds days later, cancellations, refused commands and a few backdated corrections) "
        "by running real commands through Temporal. Safe to rerun the same day: commands carry idempotency keys."
    )

    def add_arguments(self, parser):
        parser.add_argument("--payments", type=int, default=300)
        parser.add_argument("--concurrency", type=int, default=20)
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when demo payments exist.")

    def handle(self, *args, payments, concurrency, if_empty, **options):
        if if_empty and Stream.objects.filter(stream_id__startswith=demo.DEMO_PREFIX).exists():
            self.stdout.write("Demo payments are already loaded.")
            return
        for organization_id, name in demo.ORGANIZATIONS.items():
            Organization.objects.get_or_create(id=organization_id, defaults={"name": name})
        plan = demo.demo_plan(payments, timezone.now().date())
        try:
            client = shared_client()
        except TemporalUnavailable as error:
            raise CommandError(str(error)) from None
        total = len(plan.payments) + len(plan.corrections)
        with tqdm(total=total, unit="payment", desc="demo payments", file=self.stderr._out) as bar:
            results = shared_loop().run(demo.load(client, plan, concurrency=concurrency, on_done=bar.update))
        accepted = sum(result.success for result in results)
        self.stdout.write(self.style.SUCCESS(
            f"Loaded {payments} demo payments over the last twelve months: {len(results)} commands, {accepted} "
            f"accepted, {len(results) - accepted} refused by the business rules, {len(plan.corrections)} of them "
            "backdated corrections recorded last."
        ))
