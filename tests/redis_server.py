"""Debian's redis-server, for the tests of a Redis CACHE_URL (marker `redis`): on a free loopback
port, started and stopped by the test that needs it. Without the server those tests are deselected,
never skipped-as-passed, and the run says so plainly."""

import contextlib
import shutil
import subprocess
import time
from pathlib import Path
from typing import Iterator

from config.devstack.embedded import free_port
from tests.missing_programs import deselect_and_say

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def redis_available() -> bool:
    return Path(REDIS_SERVER).exists()


def deselect_redis_tests(config, items) -> None:
    """Leave out the tests marked `redis` when there is no redis-server, and say so."""
    if redis_available():
        return
    redis_tests = [item for item in items if item.get_closest_marker("redis")]
    deselect_and_say(config, items, redis_tests, what="REDIS TESTS", missing=f"no redis-server at {REDIS_SERVER}",
                     install="apt-get install redis-server")


@contextlib.contextmanager
def redis_server(directory: Path, timeout: float = 30) -> Iterator[str]:
    """A Redis on 127.0.0.1 only, keeping nothing on disk; yields its redis:// URL (database 0)."""
    port = free_port()
    server = subprocess.Popen(
        [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_until_it_answers(url, server, timeout)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_it_answers(url: str, server: subprocess.Popen, timeout: float) -> None:
    import redis  # here, not above: every test session loads this module for its collection hook

    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(redis.ConnectionError):
            if redis.Redis.from_url(url).ping():
                return
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"redis-server did not start (exit code {server.poll()})")
        time.sleep(0.1)
