"""Prometheus metrics: the web server's requests, the store's appends (`eventstore.store_metrics`),
and the state of the store.

Web processes expose them at /metrics, which answers only a scraper sending
`Authorization: Bearer <METRICS_TOKEN>` (404 when METRICS_TOKEN is empty). gunicorn's processes share
their counts through PROMETHEUS_MULTIPROC_DIR. The worker serves them on WORKER_METRICS_ADDRESS
(`manage.py temporal_worker`), beside the Temporal SDK's own metrics on TEMPORAL_METRICS_ADDRESS.
The state gauges (projection lag, seal and verification age) are read from the database at scrape time.
"""

import hmac
import os
import time

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpResponse
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import REGISTRY, GaugeMetricFamily

from eventstore.integrity.models import ChainVerification, Seal

REQUESTS = Counter("payments_http_requests", "HTTP requests answered, by view, method and status.",
                   ["view", "method", "status"])
REQUEST_SECONDS = Histogram("payments_http_request_duration_seconds", "Time to answer a request, by view.", ["view"])
REQUEST_DB_SECONDS = Histogram("payments_http_request_db_seconds", "Time spent in database queries per request, by view.",
                               ["view"], buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


class RequestMetricsMiddleware:
    """Counts and times every request, and the database time within it, by the view that answered."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        database = _QueryTimer()
        began = time.perf_counter()
        with connection.execute_wrapper(database):
            response = self.get_response(request)
        view = _view_name(request)
        REQUESTS.labels(view, request.method, str(response.status_code)).inc()
        REQUEST_SECONDS.labels(view).observe(time.perf_counter() - began)
        REQUEST_DB_SECONDS.labels(view).observe(database.seconds)
        return response


class _QueryTimer:
    def __init__(self):
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - began


def _view_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "<unresolved>"
    return match.view_name or match._func_path


class StoreStateCollector:
    """Projection lag, age of the last seal and of the last verification, read when scraped."""

    def collect(self):
        try:
            yield from self._families()
        finally:
            connection.close()  # scrapes run on threads of their own: give the connection back

    def _families(self):
        from eventstore.projections.lag import lag

        events = GaugeMetricFamily("eventstore_projection_lag_events", "Committed events a projection has not applied.",
                                   labels=["projection"])
        seconds = GaugeMetricFamily("eventstore_projection_lag_seconds", "Age of the oldest event a projection has not applied.",
                                    labels=["projection"])
        for each in lag():
            events.add_metric([each.name], each.events_behind)
            seconds.add_metric([each.name], each.seconds_behind)
        yield events
        yield seconds
        now = timezone.now()
        seal = Seal.objects.order_by("-sealed_at").values_list("sealed_at", flat=True).first()
        verification = ChainVerification.objects.order_by("-ran_at").values_list("ran_at", "ok").first()
        yield _gauge("eventstore_last_seal_age_seconds", "Seconds since the last seal (absent: never sealed).",
                     (now - seal).total_seconds() if seal else None)
        yield _gauge("eventstore_last_verification_age_seconds", "Seconds since the last verify_event_chain run.",
                     (now - verification[0]).total_seconds() if verification else None)
        yield _gauge("eventstore_last_verification_ok", "1 when the last verify_event_chain run found the chain intact, else 0.",
                     (1 if verification[1] else 0) if verification else None)


def _gauge(name: str, documentation: str, value: float | None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation)
    if value is not None:
        family.add_metric([], value)
    return family


def registry() -> CollectorRegistry:
    """The metrics of this process (or of every gunicorn process, in multiprocess mode) and the store's state."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined)
    else:
        combined = CollectorRegistry()
        combined.register(_ProcessMetrics())
    combined.register(StoreStateCollector())
    return combined


class _ProcessMetrics:
    def collect(self):
        yield from REGISTRY.collect()


def metrics_view(request):
    """GET /metrics for Prometheus, with `Authorization: Bearer <METRICS_TOKEN>`; 404 to anyone else."""
    token = settings.METRICS_TOKEN
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not token or not hmac.compare_digest(offered.encode(), token.encode()):
        raise Http404("No metrics here.")
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)


def mark_process_dead(pid: int) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)


def serve_worker_metrics(address: str) -> None:
    """The worker's metrics on `address` (host:port), from a daemon thread."""
    from prometheus_client import start_http_server

    host, _, port = address.rpartition(":")
    start_http_server(int(port), addr=host or "127.0.0.1", registry=registry())
