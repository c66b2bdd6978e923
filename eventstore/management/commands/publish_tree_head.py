from django.core.management.base import BaseCommand, CommandError

from eventstore.ledger.service import PublishFailed, publish_latest_head


class Command(BaseCommand):
    help = (
        "Append the newest signed tree head to a place outside the database: DIR/heads.jsonl (one JSON object a "
        "line), or a POST of the head as JSON to a witness URL. Keep it: `verify_event_chain --expect-head` and "
        "the audit bundle's verifier check later that the log still extends it."
    )

    def add_arguments(self, parser):
        parser.add_argument("destination", help="A directory, or an http(s) URL of a witness.")

    def handle(self, *args, destination, **options):
        try:
            head = publish_latest_head(destination)
        except PublishFailed as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(f"Published the head of {head['tree_size']} events to {destination}."))
