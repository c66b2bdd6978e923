"""`manage.py payment_command CREATE payment-123 --organization org-456 --user user-789 --amount 100.00 --currency EUR`"""

import json
from dataclasses import asdict

from django.core.management.base import CommandError

from eventstore.actors import management_command
from eventstore.temporal.command_line import TemporalCommand
from eventstore.temporal.connection import TemporalUnavailable
from eventstore.temporal.search_attributes import SearchAttributesMissing
from payments.client import CommandNotFinished, IdempotencyKeyReused, InvalidIdempotencyKey, run_command
from payments.domain import CommandType
from payments.messages import PaymentCommandRequest


class Command(TemporalCommand):
    help = "Run one payment command through Temporal and print its result. Exits 1 when it is rejected."

    def add_arguments(self, parser):
        parser.add_argument("type", choices=[command.value for command in CommandType], type=str.upper)
        parser.add_argument("payment_id")
        parser.add_argument("--organization", required=True)
        parser.add_argument("--user", required=True)
        parser.add_argument("--amount", help="Decimal amount, e.g. 100.00 (CREATE and REFUND).")
        parser.add_argument("--currency", help="ISO 4217 code, e.g. EUR.")
        parser.add_argument("--description", default="")
        parser.add_argument("--correlation-id")
        parser.add_argument("--occurred-at", help="Business time, ISO 8601 with an offset, e.g. "
                                                  "2024-03-05T10:30:00+01:00 (default: now).")
        parser.add_argument("--idempotency-key", help="Repeat a command safely: the same key never runs twice.")
        parser.add_argument("--timeout", type=float, default=30.0, help="Seconds to wait for the result.")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args, **options):
        request = PaymentCommandRequest(
            type=options["type"], payment_id=options["payment_id"], organization_id=options["organization"],
            user_id=options["user"], amount=options["amount"], currency=options["currency"],
            description=options["description"], correlation_id=options["correlation_id"],
            idempotency_key=options["idempotency_key"], occurred_at=options["occurred_at"],
        )
        try:
            result = run_command(request, actor=management_command("payment_command"), timeout=options["timeout"])
        except (CommandNotFinished, IdempotencyKeyReused, InvalidIdempotencyKey, SearchAttributesMissing) as error:
            raise CommandError(str(error)) from None
        except TemporalUnavailable as error:
            raise CommandError(f"{error}. Is the worker stack running?") from None
        self._print(result, options["json"])
        if not result.success:
            raise CommandError(f"REJECTED: {result.message}")

    def _print(self, result, as_json: bool) -> None:
        if as_json:
            fields = asdict(result)
            fields.pop("request_fingerprint")
            fields.pop("submission")
            self.stdout.write(json.dumps(fields, indent=2))
            return
        verdict = self.style.SUCCESS("ACCEPTED") if result.success else self.style.ERROR("REJECTED")
        self.stdout.write(f"{verdict}: {result.message}")
        self.stdout.write(f"  payment {result.payment_id} at version {result.version} ({result.status or 'n/a'})")
        self.stdout.write(f"  events: {', '.join(result.event_ids) or 'none'}")
        self.stdout.write(f"  workflow {result.workflow_id}, correlation id {result.correlation_id}")
