"""A small HTTP load generator, run as its own process: `python -m tests.benchmarks.loadgen URL [URL ...]`.

No Django set-up and no third-party client. Requests go to the given URLs (loopback in the benchmarks)
from a fixed number of threads for a fixed time, then it prints one JSON line: requests, errors,
requests/s, p50, p99.
"""

import argparse
import http.client
import json
import threading
import time
from urllib.parse import urlsplit

from analytics.percentiles import percentile
from tests.threads import in_threads


def run(urls: list[str], *, token: str, threads: int, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker(offset: int) -> None:
        parts = urlsplit(urls[0])
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        index = offset
        while time.monotonic() < deadline:
            url = urlsplit(urls[index % len(urls)])
            index += 1
            started = time.perf_counter()
            try:
                connection.request("GET", f"{url.path}?{url.query}", headers={"Authorization": f"Token {token}"})
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                errors[0] += not ok

    started = time.monotonic()
    in_threads(threads, worker)
    measured = latencies or [0.0]
    return {
        "requests": len(latencies), "errors": errors[0],
        "requests_per_second": len(latencies) / (time.monotonic() - started),
        "p50_ms": percentile(measured, 0.5), "p99_ms": percentile(measured, 0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--token", required=True)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    arguments = parser.parse_args()
    print(json.dumps(run(arguments.urls, token=arguments.token, threads=arguments.threads, seconds=arguments.seconds)))


if __name__ == "__main__":
    main()
