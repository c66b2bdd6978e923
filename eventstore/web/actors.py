"""The actor of a request, as Django authenticated it: what every event it causes records as `actor`.

Through the API (DRF): an API token is the principal `api_token` with the token's public id as its
credential; a session is the `user`. Anywhere else (the admin), the `user` with a short hash of the
session key: enough to tell two sessions of one person apart, useless to take one over.
"""

import hashlib

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
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


KIND_LABELS = {
    "user": gettext_lazy("user"), "api_token": gettext_lazy("api token"),
    "management_command": gettext_lazy("management command"), "schedule": gettext_lazy("schedule"),
    "system": gettext_lazy("system"), "temporal_client": gettext_lazy("Temporal client"),
}


def described(metadata_actor) -> tuple[str, str]:
    """An event's metadata `actor` in the reader's words: who (name, else id), and how (kind, channel,
    credential, session, on whose behalf). What a reader is shown, not what a program should parse."""
    try:
        actor = Actor.from_dict(metadata_actor)
    except ValueError:
        return _("(unreadable actor)"), ""
    if actor.kind == "unknown":
        return _("unknown"), _("written before actors were recorded")
    how = [str(KIND_LABELS.get(actor.kind, actor.kind)),
           _("via %(channel)s") % {"channel": actor.channel} if actor.channel else "",
           _("credential %(credential)s") % {"credential": actor.credential} if actor.credential else "",
           _("session %(session)s") % {"session": actor.session} if actor.session else "",
           _("on behalf of %(person)s") % {"person": actor.on_behalf_of} if actor.on_behalf_of else ""]
    return actor.name or actor.id or _("(no identity)"), ", ".join(part for part in how if part)
