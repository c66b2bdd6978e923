"""Seals: how an actor Django code authenticated crosses Temporal without a client being able to forge it.

A workflow's input is whatever its starter sent, and any Temporal client may start a workflow. So
the actor travels sealed: HMAC-SHA256 (key `settings.ACTOR_SEAL_KEY`, by default derived from
SECRET_KEY) over the canonical JSON of the actor, the id of the one workflow it is meant for, and
an expiry. The append activity opens it against the id of the workflow that calls it: a seal
copied into another workflow, altered, or past its expiry opens to nothing, and the events then
record the Temporal client that started the workflow instead (`eventstore.temporal.activities`).
"""

import base64
import binascii
import hashlib
import hmac
import json
import time

from django.conf import settings

from eventstore.actors import Actor
from eventstore.encoding import canonical_json

_VERSION = "v1"


def seal_actor(actor: Actor, *, workflow_id: str, max_age_seconds: int | None = None) -> str:
    """A seal of `actor` for the workflow `workflow_id`, good for `max_age_seconds` (default
    ACTOR_SEAL_MAX_AGE_SECONDS)."""
    max_age = settings.ACTOR_SEAL_MAX_AGE_SECONDS if max_age_seconds is None else max_age_seconds
    body = {"actor": actor.to_dict(), "expires": int(time.time()) + max_age}
    payload = _encoded(canonical_json(body).encode())
    return f"{_VERSION}.{payload}.{_signature(payload, workflow_id)}"


def open_actor_seal(seal: str, *, workflow_id: str) -> Actor | None:
    """The actor `seal` holds when it was made for `workflow_id` by this deployment and has not
    expired; None otherwise."""
    if not isinstance(seal, str) or not workflow_id:
        return None
    version, _, rest = seal.partition(".")
    payload, _, signature = rest.partition(".")
    if version != _VERSION or not hmac.compare_digest(signature, _signature(payload, workflow_id)):
        return None
    try:
        body = json.loads(base64.urlsafe_b64decode(payload.encode() + b"=" * (-len(payload) % 4)))
        if not isinstance(body.get("expires"), int) or body["expires"] < time.time():
            return None
        return Actor.from_dict(body["actor"])
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        return None


def _signature(payload: str, workflow_id: str) -> str:
    message = f"{_VERSION}\n{workflow_id}\n{payload}".encode()
    return _encoded(hmac.new(_key(), message, hashlib.sha256).digest())


def _key() -> bytes:
    configured = settings.ACTOR_SEAL_KEY
    if configured:
        return configured.encode()
    return hashlib.sha256(b"eventstore.actor_seals\n" + settings.SECRET_KEY.encode()).digest()


def _encoded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
