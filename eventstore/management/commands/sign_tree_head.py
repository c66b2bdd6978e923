from django.core.management.base import BaseCommand, CommandError

from eventstore.ledger.service import RollbackDetected, sign_tree_head
from eventstore.ledger.signing import SigningKeyMissing


class Command(BaseCommand):
    help = "Give ledger indexes to every new event and sign a tree head, unless no event is new since the last one."

    def handle(self, *args, **options):
        try:
            head = sign_tree_head()
        except (SigningKeyMissing, RollbackDetected) as error:
            raise CommandError(str(error)) from None
        if head is None:
            self.stdout.write("No new events since the newest signed head: nothing signed.")
            return
        self.stdout.write(self.style.SUCCESS(
            f"Signed the head of {head.tree_size} events: root {head.root_hash}, streams root {head.streams_root}."
        ))
