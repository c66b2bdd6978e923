"""Requests that read go to the read replica; a client reads its own writes.

A GET, HEAD or OPTIONS request reads inside `replica_reads()` (eventstore/replica.py); other methods
are commands and use the primary only. After a request that wrote (any method; a read request writes
when it saves a session, say), the primary's WAL position is remembered for the client's credential,
in the cache under a hash of its Authorization header or session cookie (and of a session cookie the
response sets, which a login changes), for DATABASE_REPLICA_READ_AFTER_SECONDS. The client's next
reads wait for the replica to replay that position, or read the primary. The cache must be one every
web process shares (CACHE_URL, as the throttles need) for this to hold across processes.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache

from eventstore.replica import primary_position, replica_configured, replica_reads

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ReplicaReadsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_configured():
            return self.get_response(request)
        credentials = request_credentials(request)
        if request.method in READ_METHODS:
            wait_for = max_position(cache.get_many([read_after_key(c) for c in credentials]).values())
            with replica_reads(wait_for) as scope:
                response = self.get_response(request)
            wrote = scope.wrote
        else:
            response = self.get_response(request)
            wrote = True
        if wrote:
            remember_write(credentials + response_credentials(response))
        return response


def request_credentials(request) -> list[str]:
    found = [request.META.get("HTTP_AUTHORIZATION", ""), request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")]
    return [credential for credential in found if credential]


def response_credentials(response) -> list[str]:
    cookie = response.cookies.get(settings.SESSION_COOKIE_NAME)
    return [cookie.value] if cookie is not None and cookie.value else []


def remember_write(credentials: list[str]) -> None:
    if credentials:
        position = primary_position()
        cache.set_many({read_after_key(c): position for c in credentials}, settings.DATABASE_REPLICA_READ_AFTER_SECONDS)


def read_after_key(credential: str) -> str:
    return "replica-read-after:" + hashlib.sha256(credential.encode()).hexdigest()


def max_position(positions) -> str | None:
    """The furthest of WAL positions written as PostgreSQL's pg_lsn text (`16/B374D848`)."""
    return max(positions, key=lambda lsn: tuple(int(part, 16) for part in lsn.split("/")), default=None)
