"""Seals: an actor signed for one workflow, which a plain Temporal client cannot forge."""

import base64
import hashlib
import hmac
import json
import time

from django.conf import settings

from eventstore.actors import Actor

LIFETIME_SECONDS = 30 * 24 * 3600


def _key() -> bytes:
    return getattr(settings, "ACTOR_SEAL_KEY", "") .encode() or hashlib.sha256(
        b"actor-seal:" + settings.SECRET_KEY.encode()).digest()


def _signature(body: bytes) -> str:
    return hmac.new(_key(), body, hashlib.sha256).hexdigest()


def seal_actor(actor: Actor, *, workflow_id: str) -> str:
    body = json.dumps({"actor": actor.to_dict(), "workflow_id": workflow_id,
                       "expires": int(time.time()) + LIFETIME_SECONDS}, sort_keys=True).encode()
    return f"{base64.urlsafe_b64encode(body).decode()}.{_signature(body)}"


def open_actor_seal(seal: str, *, workflow_id: str) -> Actor | None:
    try:
        encoded, signature = seal.rsplit(".", 1)
        body = base64.urlsafe_b64decode(encoded.encode())
        content = json.loads(body)
    except (ValueError, AttributeError):
        return None
    if not hmac.compare_digest(signature, _signature(body)):
        return None
    if content.get("workflow_id") != workflow_id or content.get("expires", 0) < time.time():
        return None
    return Actor.from_dict(content.get("actor", {}))
