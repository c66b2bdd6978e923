"""The address of the client behind a request: what the API throttles, the unauthenticated flood limit
and the login lockout (django-axes' AXES_CLIENT_IP_CALLABLE) all count per.

TRUSTED_PROXY_COUNT says how many proxies stand in front of the web server, each appending the address
it received the request from to X-Forwarded-For. With none (the default) the header is ignored and the
client is REMOTE_ADDR. With N, the client is the N-th entry from the right: the one the outermost
trusted proxy wrote. Entries further left came from the client and are never believed.
"""

import ipaddress

from django.conf import settings


def client_address(request) -> str:
    """The client's address of `request` (a Django or DRF request) under TRUSTED_PROXY_COUNT."""
    connected = request.META.get("REMOTE_ADDR", "")
    forwarded = _forwarded_addresses(request)
    if settings.TRUSTED_PROXY_COUNT <= 0 or not forwarded:
        return connected
    # Fewer entries than proxies: the request came through only the nearest ones; the leftmost is theirs.
    written_by_a_trusted_proxy = forwarded[-min(settings.TRUSTED_PROXY_COUNT, len(forwarded))]
    return _normalized(written_by_a_trusted_proxy) or connected


def _forwarded_addresses(request) -> list[str]:
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return [entry.strip() for entry in header.split(",") if entry.strip()]


def _normalized(address: str) -> str | None:
    """The address in canonical form, or None when it is none (the lockout stores addresses as such)."""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None
