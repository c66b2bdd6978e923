"""A signed tree head's message as README "The verifiable ledger" documents it, built with nothing
of the project's code: what an auditor writing their own checker would build from the README."""

import hashlib
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SIGNED_FIELDS = ("root_hash", "streams_root", "timestamp", "tree_size")


def documented_message(head: dict) -> bytes:
    """The UTF-8 of the compact, key-sorted JSON of the head's four signed fields."""
    signed = {field: head[field] for field in SIGNED_FIELDS}
    return json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signature_covers_documented_message(head: dict, public_key: str) -> bool:
    """Whether the head's Ed25519 signature, by `public_key` (raw, hex), verifies over its documented message."""
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(
            bytes.fromhex(head["signature"]), documented_message(head))
    except InvalidSignature:
        return False
    return True


def signed_with(key: Ed25519PrivateKey, head: dict) -> dict:
    """The head signed again by `key`, naming that key by its public key and its key id (the SHA-256
    of the raw public key)."""
    public_key = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {**head, "signature": key.sign(documented_message(head)).hex(), "public_key": public_key.hex(),
            "key_id": hashlib.sha256(public_key).hexdigest()}
