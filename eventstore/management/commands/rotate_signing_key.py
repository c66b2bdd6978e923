from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from eventstore.ledger.keys import RotationRefused, rotate_signing_key
from eventstore.ledger.signing import SigningKeyMissing, private_key_from_file, signing_key


class Command(BaseCommand):
    help = (
        "Hand the ledger's signing over from the configured key (LEDGER_SIGNING_KEY or LEDGER_SIGNING_KEY_FILE) "
        "to the key in --new-key-file, after the newest signed head, in a statement the configured key signs; "
        "or, with --retire, retire the configured key with no successor. Then point LEDGER_SIGNING_KEY_FILE at "
        "the new key and restart the workers: the retired key signs nothing more."
    )

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--new-key-file", type=Path, help="The next Ed25519 key: PEM, or 64 hex digits.")
        target.add_argument("--retire", action="store_true", help="Retire the current key; no key signs after it.")

    def handle(self, *args, new_key_file, retire, **options):
        try:
            next_key = None if retire else private_key_from_file(new_key_file, "--new-key-file")
            statement = rotate_signing_key(current=signing_key(), next_key=next_key)
        except (SigningKeyMissing, RotationRefused) as error:
            raise CommandError(str(error)) from None
        after = f"after the head of {statement.tree_size} events"
        if statement.next_public_key is None:
            self.stdout.write(self.style.SUCCESS(
                f"Key statement {statement.sequence}: key {statement.previous_key_id} retired {after}; no key signs."))
            return
        self.stdout.write(self.style.SUCCESS(
            f"Key statement {statement.sequence}: key {statement.next_key_id} signs {after}, key "
            f"{statement.previous_key_id} no more. Set LEDGER_SIGNING_KEY_FILE={new_key_file} and restart the workers."))
