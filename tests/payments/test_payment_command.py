"""`manage.py payment_command` as an operator types it."""

import json
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from eventstore.models import Event
from tests.processes import command_env, manage
from tests.temporal_harness import names_the_missing_search_attributes

pytestmark = pytest.mark.django_db(transaction=True)


def payment_command(*arguments):
    from io import StringIO

    out = StringIO()
    call_command("payment_command", *arguments, stdout=out)
    return out.getvalue()


def test_create_prints_the_result(temporal):
    payment_id = f"payment-{uuid.uuid4().hex[:8]}"
    output = payment_command("CREATE", payment_id, "--organization", "org-456", "--user", "user-789",
                             "--amount", "100.00", "--currency", "EUR", "--description", "Test payment")
    assert f"ACCEPTED: Payment {payment_id} processed: 100.00 EUR." in output
    assert Event.objects.filter(stream_id=payment_id).count() == 1


def test_json_output_and_idempotency_key(temporal):
    payment_id = f"payment-{uuid.uuid4().hex[:8]}"
    arguments = ("create", payment_id, "--organization", "org-1", "--user", "u-1", "--amount", "5",
                 "--currency", "JPY", "--idempotency-key", f"k-{payment_id}", "--json")
    first, again = json.loads(payment_command(*arguments)), json.loads(payment_command(*arguments))
    assert not first.pop("replayed") and again.pop("replayed")
    assert first == again and first["success"] and first["version"] == 1
    assert Event.objects.filter(stream_id=payment_id).count() == 1


def test_rejection_exits_with_the_reason(temporal):
    with pytest.raises(CommandError, match="REJECTED: Payment payment-nope does not exist."):
        payment_command("REFUND", "payment-nope", "--organization", "org-1", "--user", "u-1",
                        "--amount", "1.00", "--currency", "EUR")


def test_a_namespace_without_the_search_attributes_is_one_line_not_a_traceback(temporal_server):
    namespace = temporal_server.new_namespace()
    process = manage("payment_command", "CREATE", f"payment-{uuid.uuid4().hex[:8]}", "--organization", "org-1",
                     "--user", "u-1", "--amount", "5.00", "--currency", "EUR",
                     env=command_env(TEMPORAL_ADDRESS=temporal_server.address, TEMPORAL_NAMESPACE=namespace))
    output, _ = process.communicate(timeout=120)

    assert process.returncode == 1, output
    assert names_the_missing_search_attributes(output, namespace), output
    assert "Traceback" not in output and len(output.strip().splitlines()) == 1, output
