"""Actors in the store: `append_events(actor=...)` stamps every event, and events stored before actors
existed read back with the actor unknown (upcasting), their rows and hash chains untouched."""

import pytest

from eventstore import selectors
from eventstore.actors import UNKNOWN, Actor, management_command
from eventstore.events import ANY, NO_STREAM
from eventstore.integrity.verification import verify_event_chain
from eventstore.models import Event
from eventstore.store import append_events
from tests.eventstore.helpers import payment_events

pytestmark = pytest.mark.django_db(transaction=True)  # verify_event_chain sets its own isolation level


def test_the_actor_given_to_the_store_replaces_any_the_metadata_claims():
    events = payment_events(2, payment_id="payment-stamped")
    events[0].metadata["actor"] = {"kind": "user", "id": "someone-else"}
    actor = management_command("import_payments")

    append_events(stream_id="payment-stamped", aggregate_type="Payment", events=events, expected_version=NO_STREAM,
                  actor=actor)

    assert [event.metadata["actor"] for event in selectors.read_stream("payment-stamped")] == [actor.to_dict()] * 2
    assert Actor.from_dict(actor.to_dict()) == actor


def test_events_stored_without_an_actor_read_as_unknown_and_their_chain_verifies():
    append_events(stream_id="payment-before", aggregate_type="Payment", expected_version=ANY,
                  events=payment_events(3, payment_id="payment-before"))
    append_events(stream_id="payment-before", aggregate_type="Payment", expected_version=ANY,
                  events=payment_events(1, payment_id="payment-before", event_type="PaymentRefunded"),
                  actor=Actor(kind="user", id="7", name="fiona", channel="admin"))

    read = [event.metadata["actor"] for event in selectors.read_stream("payment-before")]
    assert read == [UNKNOWN.to_dict()] * 3 + [{"kind": "user", "id": "7", "name": "fiona", "channel": "admin"}]
    stored = list(Event.objects.filter(stream_id="payment-before").order_by("version"))
    assert ["actor" in event.metadata for event in stored] == [False, False, False, True]  # rows as written
    report = verify_event_chain(seal=False)
    assert report.ok and report.events_checked == 4, report.problems
