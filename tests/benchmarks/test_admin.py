"""Admin pages on a year of history (the payments list, a payment's history, the analytics
dashboard), each beside the selectors it calls."""

import statistics
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from analytics.selectors import EventQuery, event_statistics, event_trend
from eventstore.projections.rebuild import rebuild
from payments.models import PaymentSummary
from payments.projections import PaymentSummaryProjection
from payments.selectors import history_with_states
from tests.benchmarks.history import LONG_PAYMENT, year_of_history
from tests.benchmarks.measure import Comparison, timed
from tests.synthetic import load_history

pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600), pytest.mark.django_db(transaction=True)]

FULL = dict(payments=100_000, runs=5)
QUICK = dict(payments=5000, runs=2)


def median_ms(work, runs: int) -> float:
    return statistics.median(timed(work) for _ in range(runs)) * 1000


def test_admin_pages_beside_their_selectors(bench, size):
    bench.describe_data(f"{size.payments * 10:,} events over {size.payments:,} payments and a year; "
                        f"medians of {size.runs} runs")
    bench.say(f"Loading {size.payments * 10:,} events and building the read model...")
    load_history(year_of_history(size.payments, 10))
    rebuild(PaymentSummaryProjection(), batch_size=5000, restart=True)
    assert PaymentSummary.objects.count() == size.payments
    with connection.cursor() as cursor:  # the statistics autovacuum keeps on a live database: the list's
        cursor.execute("ANALYZE payments_paymentsummary")  # row estimate depends on them, not on timing
    client = Client(SERVER_NAME="localhost")
    client.force_login(get_user_model().objects.create_superuser(f"bench-{uuid.uuid4().hex[:6]}", "b@example.com", "pw"))
    for label, page, selector in pages():
        page_ms = median_ms(lambda: get(client, page), size.runs)
        selector_ms = median_ms(selector, size.runs)
        bench.report(Comparison(label, "ms", page_ms, selector_ms, "its selectors", higher_is_better=False))


def get(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)


def pages():
    end = timezone.now()
    start = end - timedelta(days=29)
    query = EventQuery("PaymentProcessed", start, end + timedelta(days=1))
    dashboard = (f"/admin/analytics/dashboard/?event_type=PaymentProcessed&start={start.date()}&end={end.date()}"
                 "&interval=day&time_zone=UTC")
    return [
        ("admin: payments list (first page)", "/admin/payments/paymentsummary/",
         lambda: list(PaymentSummary.objects.order_by("-created_at")[:100])),
        ("admin: a payment's history (50 events)", f"/admin/payments/paymentsummary/{LONG_PAYMENT}/change/",
         lambda: history_with_states(LONG_PAYMENT)),
        ("admin: analytics dashboard (30 days)", dashboard,
         lambda: (event_statistics(query), event_trend(query, interval="day"))),
    ]
