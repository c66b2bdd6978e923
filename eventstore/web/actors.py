"""The actor of a request, where the request is authenticated."""

import hashlib

from eventstore.actors import Actor


def actor_of_request(request) -> Actor:
    user = request.user
    auth = getattr(request, "auth", None)
    channel = "api" if hasattr(request, "_request") else "admin"
    if auth is not None and channel == "api":
        return Actor(kind="api_token", id=str(user.pk), name=user.get_username(), channel="api",
                     credential=str(getattr(auth, "credential_id", "")))
    session_key = getattr(getattr(request, "session", None), "session_key", None) or ""
    session = hashlib.sha256(session_key.encode()).hexdigest()[:16] if session_key else ""
    return Actor(kind="user", id=str(user.pk), name=user.get_username(), channel=channel, session=session)
