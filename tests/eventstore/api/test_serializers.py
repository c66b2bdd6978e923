"""How the API shows an event: each field as DRF's declared field would show it."""

import uuid
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from eventstore.api.serializers import EventSerializer
from eventstore.events import RecordedEvent

pytestmark = pytest.mark.django_db  # a page reads its ledger places


def event_recorded_at(moment: datetime, position: int = 7) -> RecordedEvent:
    return RecordedEvent(position, uuid.uuid4(), "payment-1", "Payment", 1, "PaymentProcessed", {"amount": "1.00"},
                         {"organization_id": "org-1"}, moment, 1, "0" * 64, "a" * 64)


def shown(events: list[RecordedEvent]) -> list[dict]:
    return EventSerializer(events, many=True).data


def test_the_timestamp_is_the_declared_fields_answer_in_utc_and_in_another_current_zone():
    events = [event_recorded_at(datetime(2026, 3, 29, 0, 59, 59, 123456, tzinfo=UTC), 1),
              event_recorded_at(datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 2)]
    field = EventSerializer().fields["timestamp"]

    assert [row["timestamp"] for row in shown(events)] == ["2026-03-29T00:59:59.123456Z", "2026-03-29T01:00:00Z"]
    with timezone.override("Europe/Paris"):  # the summer time change falls between the two
        assert [row["timestamp"] for row in shown(events)] == [field.to_representation(e.recorded_at) for e in events]
        assert [row["timestamp"][-6:] for row in shown(events)] == ["+01:00", "+02:00"]
