"""The query and analytics workflows through a real worker return what the selectors return."""

import time
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from temporalio.client import WorkflowFailureError

from analytics.selectors import EventQuery, InvalidQuery, event_statistics, event_trend
from analytics.client import EventAnalyticsService
from analytics.workflow_metrics import collect
from eventstore import selectors
from payments.messages import HistoryAnswer, HistoryQuery
from payments.workflows import PaymentHistoryQueryWorkflow
from tests.analytics_data import random_history
from tests.payments.helpers import request, run

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2026, 2, 1, tzinfo=timezone.utc)


def query_history(temporal, query: HistoryQuery) -> HistoryAnswer:
    return temporal.run(temporal.client.execute_workflow(
        PaymentHistoryQueryWorkflow.run, query, id=f"history-{uuid.uuid4()}", task_queue=temporal.task_queue))


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


def test_history_search_and_timeline_through_temporal(temporal):
    payment_id = f"payment-{uuid.uuid4().hex[:8]}"
    correlation = f"order-{uuid.uuid4().hex[:8]}"
    run(temporal, request(payment_id=payment_id, amount="30.00", correlation_id=correlation))
    run(temporal, request("REFUND", payment_id, amount="5.00", correlation_id=correlation))
    run(temporal, request("REFUND", payment_id, amount="5.00", correlation_id=correlation))

    history = query_history(temporal, HistoryQuery("history", payment_id=payment_id, limit=2))
    rest = query_history(temporal, HistoryQuery("history", payment_id=payment_id, after_position=history.next_after_position))
    timeline = query_history(temporal, HistoryQuery("timeline", correlation_id=correlation))
    search = query_history(temporal, HistoryQuery("search", event_type="PaymentRefunded", organization_ids=["org-456"],
                                                  currency="EUR", since=(START - timedelta(days=1)).isoformat()))

    stored = list(selectors.read_stream(payment_id))
    assert [e.version for e in history.events + rest.events] == [1, 2, 3] and rest.next_after_position is None
    assert [e.event_id for e in timeline.events] == [str(e.event_id) for e in stored]
    assert {e.event_id for e in search.events} >= {str(e.event_id) for e in stored[1:]}
    assert all(e.event_type == "PaymentRefunded" for e in search.events)


def test_query_errors_fail_the_workflow_instead_of_returning_nothing(temporal):
    with pytest.raises(WorkflowFailureError) as raised:
        query_history(temporal, HistoryQuery("search", since="yesterday"))
    assert "ISO 8601" in raised.value.cause.message
    with pytest.raises(WorkflowFailureError):
        query_history(temporal, HistoryQuery("history"))


def test_workflow_metrics_from_visibility(temporal):
    for _ in range(3):
        run(temporal, request())
    deadline = time.monotonic() + 15
    while True:  # visibility is eventually consistent: a command finished a moment ago may still show running
        metrics = {m.workflow_type: m for m in temporal.run(collect(temporal.client, window=timedelta(hours=1), sample=100))}
        commands = metrics["PaymentEventSourcingWorkflow"]
        if commands.running == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert commands.started >= 3 and commands.completed >= 3 and commands.running == 0
    assert commands.average_seconds > 0 and commands.p95_seconds >= commands.average_seconds * 0.5
    assert set(metrics) >= {"EventAnalyticsWorkflow", "PaymentHistoryQueryWorkflow", "EventStoreWorkflow"}
