"""`manage.py bench_admin`: admin pages at a million events, each beside the selectors it calls."""

import statistics
import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.test import Client
from django.utils import timezone

from analytics.management.commands.bench_analytics import LONG_PAYMENT, year_of_history
from analytics.queries import EventQuery, event_statistics, event_trend
from eventstore.benchmarking import Comparison, describe_data, report, scratch_database, timed
from eventstore.projections import rebuild
from eventstore.synthetic import load_history
from payments.models import PaymentSummary
from payments.projections import PaymentSummaryProjection
from payments.selectors import history_with_states


def median_ms(work, runs: int) -> float:
    return statistics.median(timed(work) for _ in range(runs)) * 1000


class Command(BaseCommand):
    help = "Render times of the payments list, a payment's history and the dashboard beside their selectors."

    def add_arguments(self, parser):
        parser.add_argument("--payments", type=int, default=100_000)
        parser.add_argument("--runs", type=int, default=5)

    def handle(self, *args, payments, runs, **options):
        with scratch_database():
            describe_data(f"{payments * 10:,} events over {payments:,} payments and a year; medians of {runs} runs")
            self.stdout.write(f"Loading {payments * 10:,} events and building the read model...")
            load_history(year_of_history(payments, 10))
            rebuild(PaymentSummaryProjection(), batch_size=5000, restart=True)
            client = Client(SERVER_NAME="localhost")
            client.force_login(get_user_model().objects.create_superuser(f"bench-{uuid.uuid4().hex[:6]}", "b@example.com", "pw"))
            for label, page, selector in self._pages():
                page_ms = median_ms(lambda: self._get(client, page), runs)
                selector_ms = median_ms(selector, runs)
                report(self.stdout, Comparison(label, "ms", page_ms, selector_ms, "its selectors", higher_is_better=False))

    def _get(self, client: Client, url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    def _pages(self):
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
