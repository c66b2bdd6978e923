"""The ledger's Ed25519 signing key, from settings, and the exact bytes a tree head's signature covers.

`LEDGER_SIGNING_KEY` holds the key itself (PEM, or the 32-byte raw private key as 64 hex digits);
otherwise `LEDGER_SIGNING_KEY_FILE` names a file holding it. The signed message of a head is the
compact, key-sorted JSON (UTF-8) of its four fields, e.g.
`{"root_hash":"…","streams_root":"…","timestamp":"2026-01-31T12:00:00.000000+00:00","tree_size":42}`.
"""

from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from eventstore.encoding import canonical_json, timestamp_text


class SigningKeyMissing(Exception):
    """No usable signing key is configured: no head can be signed."""


def head_message(*, tree_size: int, timestamp: datetime, root_hash: str, streams_root: str) -> bytes:
    return canonical_json({
        "root_hash": root_hash, "streams_root": streams_root, "timestamp": timestamp_text(timestamp),
        "tree_size": tree_size,
    }).encode()


def load_private_key(text: str) -> Ed25519PrivateKey:
    text = text.strip()
    try:
        if len(text) == 64:
            return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(text))
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except ValueError as error:
        raise SigningKeyMissing(f"the ledger signing key is neither PEM nor 64 hex digits: {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyMissing("the ledger signing key is not an Ed25519 key")
    return key


def signing_key() -> Ed25519PrivateKey:
    if settings.LEDGER_SIGNING_KEY:
        return load_private_key(settings.LEDGER_SIGNING_KEY)
    if settings.LEDGER_SIGNING_KEY_FILE:
        path = Path(settings.LEDGER_SIGNING_KEY_FILE)
        if not path.is_file():
            raise SigningKeyMissing(f"LEDGER_SIGNING_KEY_FILE names {path}, which is not a file")
        return load_private_key(path.read_text())
    raise SigningKeyMissing("set LEDGER_SIGNING_KEY or LEDGER_SIGNING_KEY_FILE to sign tree heads")


def public_key_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()

