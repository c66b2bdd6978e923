"""The analytics workflow through a real worker returns what the selectors return."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from temporalio.client import WorkflowFailureError

from analytics.client import EventAnalyticsService
from analytics.selectors import EventQuery, InvalidQuery, event_statistics, event_trend
from tests.analytics_data import random_history

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2026, 2, 1, tzinfo=timezone.utc)


def test_statistics_and_trends_through_temporal_equal_the_selectors(temporal):
    random_history(payments=150, start=START, days=20, seed=8)
    service = EventAnalyticsService(temporal.client, temporal.task_queue)
    since, until = START, START + timedelta(days=20)

    stats = service.get_event_statistics("PaymentProcessed", since, until, ["org-a", "org-b"])
    trend = service.get_event_trends("PaymentRefunded", since, until, interval="week", time_zone="Europe/Paris")

    expected = event_statistics(EventQuery("PaymentProcessed", since, until, ("org-a", "org-b")))
    assert (stats.count, stats.payments, stats.organizations, stats.users) == (
        expected.count, expected.payments, expected.organizations, expected.users)
    assert [(c.currency, c.count, Decimal(c.total), Decimal(c.average)) for c in stats.currencies] == [
        (c.currency, c.count, c.total, c.average) for c in expected.currencies]
    expected_trend = event_trend(EventQuery("PaymentRefunded", since, until), interval="week", time_zone="Europe/Paris")
    assert [(b.start, b.count, {k: Decimal(v) for k, v in b.totals.items()}) for b in trend.buckets] == [
        (b.start.isoformat(), b.count, b.totals) for b in expected_trend.buckets]


def test_bad_analytics_input_is_a_clear_failure(temporal):
    service = EventAnalyticsService(temporal.client, temporal.task_queue)
    with pytest.raises(InvalidQuery, match="Unknown event type 'Nope'") as raised:
        service.get_event_statistics("Nope", START, START + timedelta(days=1))
    assert raised.value.field == "event_type"
    with pytest.raises(InvalidQuery, match="Unknown interval"):
        service.get_event_trends("PaymentProcessed", START, START + timedelta(days=1), interval="decade")


def test_a_plain_client_gets_statistics_and_a_malformed_time_fails_at_once(plain_temporal):
    random_history(payments=40, start=START, days=5, seed=12)
    request = {"operation": "statistics", "event_type": "PaymentProcessed", "since": START.isoformat(),
               "until": (START + timedelta(days=5)).isoformat()}

    answer = plain_temporal("EventAnalyticsWorkflow", request)
    with pytest.raises(WorkflowFailureError) as raised:
        plain_temporal("EventAnalyticsWorkflow", {**request, "until": "2026-02-06"})

    assert answer["statistics"]["count"] == event_statistics(
        EventQuery("PaymentProcessed", START, START + timedelta(days=5))).count
    assert raised.value.cause.type == "InvalidInput"
    assert raised.value.cause.message.startswith("Input field 'until' must be an ISO 8601 date and time with an offset")
