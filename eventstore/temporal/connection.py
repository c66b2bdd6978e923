"""One Temporal client per process, for Django code: connection settings (TLS, API key), the
strict data converter, and the background loop synchronous code awaits Temporal calls on.

Clients and workers use `data_converter()`, which decodes the inputs of the declared workflows
strictly (`eventstore.temporal.inputs`): any Temporal client's malformed input fails its workflow at once;
and encrypts every payload with the configured keys (`eventstore.temporal.payload_codec`).
"""

import asyncio
import dataclasses
import threading
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from temporalio.client import (
    Client,
)
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime
from temporalio.service import RPCError, TLSConfig

from eventstore import registry
from eventstore.temporal.inputs import data_converter as input_checking_converter
from eventstore.temporal.payload_codec import payload_codec


class TemporalUnavailable(Exception):
    """The Temporal frontend could not be reached: nothing was started."""


async def connect(*, address: str | None = None, namespace: str | None = None, runtime: Runtime | None = None) -> Client:
    """A client of the configured namespace, with the configured TLS and API key; TemporalUnavailable
    when nobody answers."""
    address = address or settings.TEMPORAL_ADDRESS
    try:
        return await Client.connect(address, namespace=namespace or settings.TEMPORAL_NAMESPACE,
                                    data_converter=data_converter(), tls=tls_config(),
                                    api_key=settings.TEMPORAL_API_KEY or None, runtime=runtime)
    except (RuntimeError, RPCError) as error:  # the SDK's connection failures
        raise TemporalUnavailable(f"Temporal is unreachable at {address}: {error}") from None


def tls_config() -> TLSConfig | bool:
    """TLS from TEMPORAL_TLS_* (PEM files); plain TCP unless TEMPORAL_TLS or one of them is set.
    An API key (Temporal Cloud) implies TLS with the system's CAs."""
    files = {name: getattr(settings, f"TEMPORAL_TLS_{name.upper()}") for name in ("server_ca", "client_cert", "client_key")}
    if not (settings.TEMPORAL_TLS or any(files.values()) or settings.TEMPORAL_TLS_SERVER_NAME or settings.TEMPORAL_API_KEY):
        return False
    read = {name: _pem(f"TEMPORAL_TLS_{name.upper()}", path) for name, path in files.items()}
    return TLSConfig(server_root_ca_cert=read["server_ca"], client_cert=read["client_cert"],
                     client_private_key=read["client_key"], domain=settings.TEMPORAL_TLS_SERVER_NAME or None)


def _pem(setting: str, path: str) -> bytes | None:
    if not path:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise ImproperlyConfigured(f"{setting}={path} cannot be read: {error.strerror}.") from None


def data_converter() -> DataConverter:
    """The SDK's default converter, except that the declared workflows' inputs are decoded strictly
    and payloads are encrypted (unless TEMPORAL_PAYLOAD_ENCRYPTION=off).

    Raises ImproperlyConfigured when encryption is on and its keys cannot be read."""
    return dataclasses.replace(input_checking_converter(registry.workflows()), payload_codec=payload_codec())


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
    """One connected client per process (per address and namespace the settings name), living on the
    shared background loop.

    Raises TemporalUnavailable when the server does not answer.
    """
    target = ("client", settings.TEMPORAL_ADDRESS, settings.TEMPORAL_NAMESPACE)
    with _shared_lock:
        client = _shared.get(target)
    if client is None:
        client = shared_loop().run(connect(), timeout=30)
        with _shared_lock:
            client = _shared.setdefault(target, client)
    return client
