"""An append whose database connection dies after its insert, while what runs in its transaction
(the prompt projections) is still writing, never reports events it did not store: it fails, and
the activity's retry stores them once."""

import uuid

import pytest
from django.db import DatabaseError, connection, transaction

from eventstore.events import NO_STREAM
from eventstore.models import Event
from eventstore.store import append_events
from eventstore.temporal.activities import append_events_activity
from eventstore.temporal.messages import AppendRequest, EventInput
from payments.models import PaymentSummary
from payments.projections import PaymentSummaryProjection
from tests.eventstore.command_activities import run_as_command
from tests.eventstore.helpers import payment_data, payment_events

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def kill_own_backend(plain_connection):
    """Ends the calling thread's database session from another one, as a crashed server would."""

    def kill():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            [pid] = cursor.fetchone()
        with plain_connection() as other:
            other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])

    return kill


def test_a_projection_that_loses_the_connection_fails_the_append_and_the_retry_stores_once(monkeypatch,
                                                                                         kill_own_backend):
    original = PaymentSummaryProjection.apply_appended

    def connection_lost(self, events):
        kill_own_backend()
        return original(self, events)

    monkeypatch.setattr(PaymentSummaryProjection, "apply_appended", connection_lost)
    data = payment_data("PaymentProcessed", "10.00", "payment-lost-1")
    request = AppendRequest("payment-lost-1", "Payment", [EventInput("PaymentProcessed", data, event_id=str(uuid.uuid4()))],
                            expected_version="no_stream", apply_prompt_projections=True)

    with pytest.raises(DatabaseError):
        run_as_command(append_events_activity, request)
    assert not Event.objects.filter(stream_id="payment-lost-1").exists()

    monkeypatch.setattr(PaymentSummaryProjection, "apply_appended", original)
    appended = run_as_command(append_events_activity, request)

    assert not appended.already_stored and appended.prompt_projections_pending == []
    assert Event.objects.filter(stream_id="payment-lost-1").count() == 1
    assert PaymentSummary.objects.get(payment_id="payment-lost-1").version == 1


def test_an_error_swallowed_in_the_appends_transaction_fails_the_append(kill_own_backend):
    def swallowing(result):
        try:
            with transaction.atomic():
                kill_own_backend()
                PaymentSummary.objects.count()
        except DatabaseError:
            pass

    with pytest.raises(DatabaseError):
        append_events(stream_id="payment-lost-2", aggregate_type="Payment", events=payment_events(1, payment_id="payment-lost-2"),
                      expected_version=NO_STREAM, with_append=swallowing)
    assert not Event.objects.filter(stream_id="payment-lost-2").exists()
