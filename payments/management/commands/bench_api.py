"""`manage.py bench_api`: history and search over HTTP against a running server (load from a second
process on loopback, bounded in time), beside the same selectors called in-process in the same run."""

import json
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from rest_framework.authtoken.models import Token

from analytics.management.commands.bench_analytics import LONG_PAYMENT, year_of_history
from config.embedded import free_port, port_is_open
from eventstore import selectors
from eventstore.benchmarking import Comparison, describe_data, report, scratch_database
from eventstore.projections import rebuild
from eventstore.synthetic import load_history
from payments.projections import PaymentSummaryProjection
from payments.selectors import payment_history

BASE_DIR = Path(settings.BASE_DIR)


def in_process(work, *, threads: int, seconds: float) -> dict:
    """The same calls as the HTTP load, in this process, same threads and duration."""
    deadline, latencies, lock = time.monotonic() + seconds, [], threading.Lock()

    def worker():
        from django.db import connection

        while time.monotonic() < deadline:
            started = time.perf_counter()
            work()
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)
        connection.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.monotonic()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    ordered = sorted(latencies)
    return {"requests_per_second": len(ordered) / (time.monotonic() - started), "p50_ms": statistics.median(ordered),
            "p99_ms": ordered[int(0.99 * (len(ordered) - 1))]}


class Command(BaseCommand):
    help = "API history and search: requests/s and p50/p99 over HTTP beside the selectors in-process."

    def add_arguments(self, parser):
        parser.add_argument("--payments", type=int, default=20_000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--seconds", type=float, default=10.0)

    def handle(self, *args, payments, threads, seconds, **options):
        with scratch_database():
            describe_data(f"{payments * 10:,} events over {payments:,} payments and a year; {threads} client threads "
                          f"for {seconds:g}s per endpoint; Django's runserver")
            load_history(year_of_history(payments, 10))
            rebuild(PaymentSummaryProjection(), batch_size=5000, restart=True)
            token = self._operator_token()
            port = free_port()
            server = self._start_server(port)
            try:
                for label, urls, work in self._questions(port):
                    http = self._load(urls, token, threads, seconds)
                    local = in_process(work, threads=threads, seconds=seconds)
                    baseline = "same selector in-process"
                    report(self.stdout, Comparison(f"{label}: throughput", "req/s", http["requests_per_second"],
                                                   local["requests_per_second"], baseline))
                    for key in ("p50_ms", "p99_ms"):
                        report(self.stdout, Comparison(f"{label}: {key[:3]} latency", "ms", http[key], local[key],
                                                       baseline, higher_is_better=False))
                    if http["errors"]:
                        self.stdout.write(f"   {http['errors']} of {http['requests']} requests failed")
            finally:
                server.terminate()
                server.wait(30)

    def _operator_token(self) -> str:
        user = get_user_model().objects.create_user(f"bench-{uuid.uuid4().hex[:6]}")
        user.user_permissions.add(Permission.objects.get(codename="view_all_organizations"))
        return Token.objects.create(user=user).key

    def _start_server(self, port: int) -> subprocess.Popen:
        database = settings.DATABASES["default"]
        user = settings.DATABASE_APP_ROLE or database["USER"]  # as in production: the application role
        env = {"DATABASE_URL": f"postgres://{user}@/{database['NAME']}?host={database['HOST']}&port={database['PORT']}",
               "DEBUG": "False", "LOG_LEVEL": "WARNING", "PATH": "/usr/bin:/bin",
               "API_USER_RATE": "10000000/min"}  # the benchmark measures the server, not its throttle
        server = subprocess.Popen([sys.executable, str(BASE_DIR / "manage.py"), "runserver", "--noreload",
                                   f"127.0.0.1:{port}"], cwd=BASE_DIR, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not port_is_open("127.0.0.1", port):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the benchmark's web server did not start")
            time.sleep(0.2)
        return server

    def _load(self, urls, token, threads, seconds) -> dict:
        output = subprocess.run([sys.executable, "-m", "config.loadgen", *urls, "--token", token,
                                 "--threads", str(threads), "--seconds", str(seconds)],
                                cwd=BASE_DIR, capture_output=True, text=True, check=True, timeout=seconds + 120)
        return json.loads(output.stdout.strip().splitlines()[-1])

    def _questions(self, port: int):
        base = f"http://127.0.0.1:{port}/api"
        search = selectors.EventSearch(event_type="PaymentRefunded", currency="EUR")
        return [
            (f"history of a payment ({LONG_PAYMENT})", [f"{base}/payments/{LONG_PAYMENT}/history/"],
             lambda: list(payment_history(LONG_PAYMENT))),
            ("search: first page of refunds in EUR", [f"{base}/events/?event_type=PaymentRefunded&currency=EUR&limit=100"],
             lambda: selectors.search_events(search, limit=100)),
        ]
