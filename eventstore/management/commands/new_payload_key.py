from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from eventstore.temporal.payload_keys import new_key_line


class Command(BaseCommand):
    help = ("Print a new random key for Temporal payloads as ID:base64key, the form TEMPORAL_PAYLOAD_KEYS and "
            "TEMPORAL_PAYLOAD_KEY_FILE take. Add it to every process first; make it current "
            "(TEMPORAL_PAYLOAD_CURRENT_KEY) once all have it.")

    def add_arguments(self, parser):
        parser.add_argument("key_id", help="the new key's id, e.g. 2027-01 (letters, digits, '.', '_', '-')")

    def handle(self, *args, key_id, **options):
        try:
            self.stdout.write(new_key_line(key_id))
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
