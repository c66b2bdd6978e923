"""`manage.py erase_personal_data SUBJECT --reason ...`: destroy a data subject's key and record it."""

from django.core.management.base import BaseCommand, CommandError

from eventstore.actors import management_command
from eventstore.erasure import DEFAULT_LEGAL_BASIS, ErasureRefused, erase_personal_data

COMMAND = "erase_personal_data"


class Command(BaseCommand):
    help = (
        "Erase a data subject's personal data: its key is destroyed, so the personal fields of its events read "
        "as \"[erased]\" everywhere, and the read models drop their copies; every hash, seal, tree head, proof "
        "and audit bundle still verifies. Recorded as a PersonalDataErased event (who, when, legal basis, "
        "reason). A retention rule (PERSONAL_DATA_RETENTION) may refuse it; then nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("subject", help="The data subject, e.g. payment:payment-123 (a stream: <aggregate type>:<stream id>).")
        parser.add_argument("--reason", required=True, help="Why, e.g. the request's reference (recorded).")
        parser.add_argument("--legal-basis", default=DEFAULT_LEGAL_BASIS, help=f"Default: {DEFAULT_LEGAL_BASIS}.")

    def handle(self, *args, subject, reason, legal_basis, **options):
        try:
            erasure = erase_personal_data(subject=subject, reason=reason, legal_basis=legal_basis,
                                          actor=management_command(COMMAND))
        except ErasureRefused as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write(self.style.SUCCESS(
            f"Erased the personal data of {subject}: key {erasure.data['key_id']} destroyed; recorded as "
            f"{erasure.stream_id} v{erasure.version} (position {erasure.position})."))
