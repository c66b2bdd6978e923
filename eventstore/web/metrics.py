"""Prometheus metrics: the web server's requests, the store's appends (`eventstore.store_metrics`),
and the state of the store.

Web processes expose them at /metrics, which answers only a scraper sending
`Authorization: Bearer <METRICS_TOKEN>` (404 when METRICS_TOKEN is empty). gunicorn's processes share
their counts through PROMETHEUS_MULTIPROC_DIR. The worker serves them on WORKER_METRICS_ADDRESS
(`manage.py temporal_worker`), beside the Temporal SDK's own metrics on TEMPORAL_METRICS_ADDRESS.
The state gauges (the figures of /status: worker pollers, projection lag, verification, signing) are
read at scrape time.
"""

import hmac
import os
import time

from django.conf import settings
from django.db import connection, connections
from django.http import Http404, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import REGISTRY, GaugeMetricFamily

from eventstore.replica import REPLICA, replica_configured
from eventstore.web.status import status

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
    """The figures of `eventstore.web.status` (worker pollers, projection lag, verification, signing)
    and a gauge per check, read when scraped."""

    def collect(self):
        try:
            yield from self._families()
        finally:
            connection.close()  # scrapes run on threads of their own: give the connection back
            if replica_configured():
                connections[REPLICA].close()

    def _families(self):
        checks = {check.name: check for check in status()}
        yield from _projection_families(checks["projections"].figures["projections"])
        verification, signing = checks["verification"].figures, checks["signing"].figures
        yield _gauge("eventstore_worker_pollers", "Workers that polled the task queue within HEALTH_WORKER_POLL_SECONDS "
                     "(absent: Temporal unreachable).", checks["worker"].figures.get("pollers"))
        yield _gauge("eventstore_last_seal_age_seconds", "Seconds since the last seal (absent: never sealed).",
                     verification["last_seal_age_seconds"])
        yield _gauge("eventstore_last_verification_age_seconds", "Seconds since the last verify_event_chain run.",
                     verification["age_seconds"])
        yield _gauge("eventstore_last_verification_ok", "1 when the last verify_event_chain run, and the last full pass, "
                     "found the chain intact, else 0.",
                     None if verification["intact"] is None else int(verification["intact"]))
        yield _gauge("eventstore_last_full_verification_age_seconds",
                     "Seconds since the last full verify_event_chain pass (absent: never).",
                     verification["last_full_age_seconds"])
        yield _gauge("eventstore_last_incremental_verification_age_seconds",
                     "Seconds since the last incremental verify_event_chain pass (absent: never).",
                     verification["last_incremental_age_seconds"])
        yield _gauge("eventstore_last_signed_head_age_seconds", "Seconds since the newest signed tree head (absent: none).",
                     signing["head_age_seconds"])
        yield _gauge("eventstore_unsigned_event_age_seconds", "Age of the oldest event no signed tree head covers (0: none).",
                     signing["unsigned_event_age_seconds"])
        if "read_replica" in checks:
            replica = checks["read_replica"].figures
            yield _gauge("eventstore_replica_lag_seconds", "Seconds the read replica is behind the primary (0: caught up; "
                         "absent: it does not answer).", replica["lag_seconds"])
            yield _gauge("eventstore_replica_lag_bytes", "Bytes of WAL the read replica has not replayed (absent: it "
                         "does not answer).", replica["lag_bytes"])
        ok = GaugeMetricFamily("eventstore_status_ok", "1 when the check of /status is ok, else 0.", labels=["check"])
        for check in checks.values():
            ok.add_metric([check.name], int(check.ok))
        yield ok


def _projection_families(projections: dict):
    events = GaugeMetricFamily("eventstore_projection_lag_events", "Committed events a projection has not applied.",
                               labels=["projection"])
    seconds = GaugeMetricFamily("eventstore_projection_lag_seconds", "Age of the oldest event a projection has not applied.",
                                labels=["projection"])
    stopped = GaugeMetricFamily("eventstore_projection_stopped", "1 when a projection is stopped at an error, else 0.",
                                labels=["projection"])
    for name, figures in projections.items():
        events.add_metric([name], figures["events_behind"])
        seconds.add_metric([name], figures["seconds_behind"])
        stopped.add_metric([name], int(figures["stopped_at_position"] is not None))
    return events, seconds, stopped


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


def holds_metrics_token(request) -> bool:
    """Whether the request sends `Authorization: Bearer <METRICS_TOKEN>` (never, while the token is unset)."""
    token = settings.METRICS_TOKEN
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(token) and hmac.compare_digest(offered.encode(), token.encode())


def metrics_view(request):
    """GET /metrics for Prometheus, with `Authorization: Bearer <METRICS_TOKEN>`; 404 to anyone else."""
    if not holds_metrics_token(request):
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
