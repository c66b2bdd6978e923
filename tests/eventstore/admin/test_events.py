import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from eventstore.events import ANY
from eventstore.models import Event
from eventstore.store import append_events
from tests.eventstore.helpers import payment_events

pytestmark = pytest.mark.django_db

@pytest.fixture
def events():
    append_events(stream_id="payment-1", aggregate_type="Payment", events=payment_events(2, correlation_id="order-1"), expected_version=ANY)
    append_events(stream_id="payment-2", aggregate_type="Payment", events=payment_events(1, correlation_id="order-2"), expected_version=ANY)
    return list(Event.objects.order_by("position"))

@pytest.fixture
def superuser_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client

def changelist(client, **params):
    return client.get(reverse("admin:eventstore_event_changelist"), params)

def listed_positions(response):
    return sorted(event.position for event in response.context["cl"].result_list)

def test_changelist_lists_events_without_a_full_count(superuser_client, events):
    response = changelist(superuser_client)
    assert response.status_code == 200
    assert listed_positions(response) == [event.position for event in events]
    assert response.context["cl"].show_full_result_count is False

@pytest.mark.parametrize("term, streams", [
    ("payment-1", {"payment-1"}),
    ("order-2", {"payment-2"}),
    ("nothing-like-this", set()),
])
def test_search_by_stream_and_correlation_id(superuser_client, events, term, streams):
    response = changelist(superuser_client, q=term)
    assert response.status_code == 200
    assert {event.stream_id for event in response.context["cl"].result_list} == streams

def test_search_by_event_id(superuser_client, events):
    response = changelist(superuser_client, q=str(events[1].event_id))
    assert listed_positions(response) == [events[1].position]

def test_filters_by_type_and_date(superuser_client, events):
    response = changelist(superuser_client, event_type="PaymentProcessed", recorded_at__gte="2000-01-01 00:00:00+00:00")
    assert response.status_code == 200
    assert len(listed_positions(response)) == 3

def test_nobody_can_add_change_or_delete_events(superuser_client, events):
    event = events[0]
    assert superuser_client.get(reverse("admin:eventstore_event_add")).status_code == 403
    detail = superuser_client.get(reverse("admin:eventstore_event_change", args=[event.position]))
    assert detail.status_code == 200 and b"PaymentProcessed" in detail.content
    assert b'name="_save"' not in detail.content
    posted = superuser_client.post(reverse("admin:eventstore_event_change", args=[event.position]), {"event_type": "X"})
    assert posted.status_code == 403
    assert superuser_client.post(reverse("admin:eventstore_event_delete", args=[event.position]), {"post": "yes"}).status_code == 403
    assert Event.objects.get(position=event.position).event_type == "PaymentProcessed"

def test_staff_without_permission_sees_nothing(client, events):
    staff = get_user_model().objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(staff)
    assert changelist(client).status_code == 403

def test_anonymous_is_sent_to_login(client, events):
    response = changelist(client)
    assert response.status_code == 302 and "/login/" in response["Location"]
