"""The web server as `make run` starts it (gunicorn, DEBUG off, pooled connections), on a free
loopback port against the test database, connected as the application role."""

import contextlib
import functools
import subprocess
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection

from config.devstack.embedded import free_port
from config.devstack.stack import MANAGE, served_settings, spawn, stop, web_server_command
from tests.processes import command_env

BURST = 60  # concurrent requests of one burst


@contextlib.contextmanager
def production_web_server(*, unset: tuple[str, ...] = (), **env_overrides: str):
    """Yields the base URL; `env_overrides` are environment variables of the server, `unset` the ones
    it goes without. The settings module and DEBUG are those `make run` exports."""
    with tempfile.TemporaryDirectory(prefix="web-") as scratch:
        env = command_env(**{**served_settings({}, development=False), "LOG_LEVEL": "WARNING",
                             "TEMPORAL_ADDRESS": settings.TEMPORAL_ADDRESS,
                             "TEMPORAL_TASK_QUEUE": settings.TEMPORAL_TASK_QUEUE,
                             "PROMETHEUS_MULTIPROC_DIR": str(Path(scratch) / "metrics"), **env_overrides})
        for name in unset:
            env.pop(name, None)
        collect_static_files()
        server, base = _start_on_a_free_port(env, Path(scratch) / "server.log")
        try:
            yield base
        finally:
            stop(server, "test web server")


def _start_on_a_free_port(env: dict, log_path: Path, attempts: int = 3) -> tuple[subprocess.Popen, str]:
    """gunicorn on a free port; on another one when some other process took the port between the
    moment it was found free and gunicorn's bind."""
    for attempt in range(1, attempts + 1):
        port = free_port()
        with open(log_path, "w") as log:
            server = spawn(web_server_command(development=False, address=f"127.0.0.1:{port}"), env=env,
                           stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_healthy(base, server, log_path)
            return server, base
        except RuntimeError:
            stop(server, "test web server")
            if attempt == attempts or "Address already in use" not in log_path.read_text():
                raise
    raise AssertionError("unreachable")


@functools.cache
def collect_static_files() -> None:
    """What `make run` does before it serves with DEBUG off: without the collected files (and their
    manifest) every page that names a static file fails."""
    subprocess.run([*MANAGE, "collectstatic", "--noinput", "--verbosity", "0"], env=command_env(), check=True,
                   capture_output=True)


def _wait_until_healthy(base: str, server: subprocess.Popen, log_path: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as answer:
                if answer.status == 200:
                    return
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the web server did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)


def get(url: str, headers: dict | None = None, timeout: float = 60) -> tuple[int, bytes, dict]:
    """Status, body and headers of a GET; an HTTP error status is an answer, not an exception."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


class ConnectionSampler:
    """The application role's connections to the test database, sampled while a burst runs."""

    def __init__(self):
        settings_dict = connection.settings_dict
        self._dsn = dict(dbname=settings_dict["NAME"], host=settings_dict["HOST"], port=settings_dict["PORT"] or 5432,
                         user=settings_dict["USER"], password=settings_dict.get("PASSWORD") or None, autocommit=True)
        self.most = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)

    def _sample(self):
        with psycopg.connect(**self._dsn) as sampler:
            while not self._stop.is_set():
                count = sampler.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE usename = %s AND datname = current_database()",
                    [settings.DATABASE_APP_ROLE or self._dsn["user"]],
                ).fetchone()[0]
                self.most = max(self.most, count)
                time.sleep(0.02)


def burst(url: str, headers: dict, size: int = BURST) -> list[int]:
    """The statuses of `size` GETs sent at once."""
    with ThreadPoolExecutor(size) as pool:
        return list(pool.map(lambda _: get(url, headers)[0], range(size)))
