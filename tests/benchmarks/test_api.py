"""API history and search over HTTP against a running server (the load from a second process on
loopback, bounded in time), beside the same selectors called in-process in the same run."""

import json
import subprocess
import sys
import threading
import time
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from analytics.percentiles import percentile
from eventstore import selectors
from eventstore.projections.rebuild import rebuild
from payments.projections import PaymentSummaryProjection
from payments.selectors import payment_history
from payments.tokens import issue_api_token
from tests.benchmarks.history import LONG_PAYMENT, year_of_history
from tests.benchmarks.measure import Comparison
from tests.processes import BASE_DIR
from tests.synthetic import load_history
from tests.threads import in_threads
from tests.web_server import BURST, ConnectionSampler, burst, production_web_server

pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600), pytest.mark.django_db(transaction=True)]

FULL = dict(payments=20_000, threads=8, seconds=10.0)  # client threads, seconds per endpoint
QUICK = dict(payments=2000, threads=8, seconds=3.0)
BASELINE = "same selector in-process"


def in_process(work, *, threads: int, seconds: float) -> dict:
    """The same calls as the HTTP load, in this process, same threads and duration."""
    deadline, latencies, lock = time.monotonic() + seconds, [], threading.Lock()

    def worker(index: int) -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            work()
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)

    started = time.monotonic()
    in_threads(threads, worker)
    return {"requests_per_second": len(latencies) / (time.monotonic() - started),
            "p50_ms": percentile(latencies, 0.5), "p99_ms": percentile(latencies, 0.99)}


WEB_PROCESSES, POOL_SIZE = 2, 4  # as `make run` configures the server


@pytest.fixture
def web_server():
    """The server as `make run` starts it (gunicorn, DEBUG off, pooled connections), connected as the
    application role (as in production)."""
    with production_web_server(WEB_PROCESSES=str(WEB_PROCESSES), DATABASE_POOL_SIZE=str(POOL_SIZE),
                               API_USER_RATE="10000000/min") as base:  # the server measured, not its throttle
        yield base


def test_history_and_search_over_http_beside_the_selectors_in_process(bench, size, web_server):
    bench.describe_data(f"{size.payments * 10:,} events over {size.payments:,} payments and a year; {size.threads} "
                        f"client threads for {size.seconds:g}s per endpoint; gunicorn, {WEB_PROCESSES} processes "
                        f"x {POOL_SIZE} threads, DEBUG off")
    load_history(year_of_history(size.payments, 10))
    rebuild(PaymentSummaryProjection(), batch_size=5000, restart=True)
    token = operator_token()
    for label, urls, work in questions(f"{web_server}/api"):
        http = load(urls, token, size.threads, size.seconds)
        local = in_process(work, threads=size.threads, seconds=size.seconds)
        bench.report(Comparison(f"{label}: throughput", "req/s", http["requests_per_second"],
                                local["requests_per_second"], BASELINE, target=0.5))
        for key, target in (("p50_ms", 2.0), ("p99_ms", None)):
            bench.report(Comparison(f"{label}: {key[:3]} latency", "ms", http[key], local[key], BASELINE,
                                    higher_is_better=False, target=target))
        if http["errors"]:
            bench.say(f"   {http['errors']} of {http['requests']} requests failed")
        assert http["requests"] > http["errors"], f"no request to {urls} succeeded"


def operator_token() -> str:
    user = get_user_model().objects.create_user(f"bench-{uuid.uuid4().hex[:6]}")
    user.user_permissions.add(Permission.objects.get(codename="view_all_organizations"))
    return issue_api_token(user=user, name="bench", all_organizations=True).key


def load(urls, token, threads, seconds) -> dict:
    output = subprocess.run([sys.executable, "-m", "tests.benchmarks.loadgen", *urls, "--token", token,
                             "--threads", str(threads), "--seconds", str(seconds)],
                            cwd=BASE_DIR, capture_output=True, text=True, check=True, timeout=seconds + 120)
    return json.loads(output.stdout.strip().splitlines()[-1])


def questions(base: str):
    search = selectors.EventSearch(event_type="PaymentRefunded", currency="EUR")
    return [
        (f"history of a payment ({LONG_PAYMENT})", [f"{base}/payments/{LONG_PAYMENT}/history/"],
         lambda: list(payment_history(LONG_PAYMENT))),
        ("search: first page of refunds in EUR", [f"{base}/events/?event_type=PaymentRefunded&currency=EUR&limit=100"],
         lambda: selectors.search_events(search, limit=100)),
    ]


def test_connections_under_bursts_stay_within_the_budget(bench, web_server):
    # the section's data line is the throughput benchmark's; this one says its own in the figure's name
    token, url = operator_token(), f"{web_server}/api/payments/?limit=10"
    with ConnectionSampler() as connections:
        statuses = [*burst(url, {"Authorization": f"Token {token}"}), *burst(url, {"Authorization": "Token " + "0" * 40}),
                    *burst(url, {})]
    budget = WEB_PROCESSES * POOL_SIZE
    bench.report(Comparison(f"connections, 3 bursts of {BURST} (auth, bogus, anon)", "conns", connections.most, budget,
                            "the budget: processes x pool", higher_is_better=False, target=1.0))
    assert not [status for status in statuses if status >= 500], statuses
