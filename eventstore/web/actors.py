"""The actor of a request, as Django authenticated it: what every event it causes records as `actor`.

Through the API (DRF): an API token is the principal `api_token` with the token's public id as its
credential; a session is the `user`. Anywhere else (the admin), the `user` with a short hash of the
session key: enough to tell two sessions of one person apart, useless to take one over.
"""

import hashlib

from django.core.exceptions import PermissionDenied
from rest_framework.request import Request

from eventstore.actors import Actor


def actor_of_request(request) -> Actor:
    """The authenticated principal behind `request`; PermissionDenied for an anonymous one."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        raise PermissionDenied("Only an authenticated user acts.")
    identity = dict(id=str(user.pk), name=user.get_username())
    if isinstance(request, Request):
        if request.auth is not None:
            return Actor(kind="api_token", channel="api", credential=str(getattr(request.auth, "credential_id", "")),
                         **identity)
        return Actor(kind="user", channel="api", session=session_id(request), **identity)
    return Actor(kind="user", channel="admin", session=session_id(request), **identity)


def session_id(request) -> str:
    """A short, non-secret id of the request's session ("" without one)."""
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    return hashlib.sha256(key.encode()).hexdigest()[:16] if key else ""
