"""Temporal client settings and worker wiring shared by every app.

Each app lists its workflows in `<app>.workflows.WORKFLOWS` and its activities in
`<app>.activities.ACTIVITIES`; the worker registers whatever the installed apps declare.
"""

import asyncio
import functools
import threading
from typing import Callable

from django.conf import settings
from django.db import close_old_connections
from temporalio.client import Client

from config.app_modules import declared_by_apps


async def connect(*, address: str | None = None, namespace: str | None = None) -> Client:
    return await Client.connect(
        address or settings.TEMPORAL_ADDRESS, namespace=namespace or settings.TEMPORAL_NAMESPACE
    )


class BackgroundLoop:
    """An event loop on a daemon thread, so synchronous Django code can await Temporal calls."""

    def __init__(self, name: str = "temporal-client"):
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coroutine, timeout: float | None = None):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)


_shared: dict = {}
_shared_lock = threading.Lock()


def shared_loop() -> BackgroundLoop:
    with _shared_lock:
        if "loop" not in _shared:
            _shared["loop"] = BackgroundLoop()
        return _shared["loop"]


def shared_client() -> Client:
    """One connected client per process, living on the shared background loop."""
    with _shared_lock:
        client = _shared.get("client")
    if client is None:
        client = shared_loop().run(connect(), timeout=30)
        with _shared_lock:
            client = _shared.setdefault("client", client)
    return client


def all_workflows() -> list[type]:
    return declared_by_apps("workflows", "WORKFLOWS")


def all_activities() -> list[Callable]:
    return declared_by_apps("activities", "ACTIVITIES")


def django_activity(function: Callable) -> Callable:
    """Run a sync activity with fresh database connections: workers get no request signals."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return wrapper
