"""The ledger's Ed25519 signing key, from settings, and the exact bytes a tree head's signature covers.

`LEDGER_SIGNING_KEY` holds the key itself (PEM, or the 32-byte raw private key as 64 hex digits);
otherwise `LEDGER_SIGNING_KEY_FILE` names a file holding it. The signed message of a head is the
compact, key-sorted JSON (UTF-8) of its four fields, e.g.
`{"root_hash":"…","streams_root":"…","timestamp":"2026-01-31T12:00:00.000000+00:00","tree_size":42}`.

A key is named by its key id, the SHA-256 (hex) of its raw 32-byte public key. A key statement
(`eventstore.ledger.keys`), signed by the key it retires, hands signing over to the next key; its
signed message is the compact, key-sorted JSON of `format`, `next_public_key` (null: no successor),
`previous_public_key`, `sequence`, `timestamp` and `tree_size`.
"""

import hashlib
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from eventstore.encoding import canonical_json, timestamp_text

KEY_STATEMENT_FORMAT = "payments-ledger-key-statement/1"


class SigningKeyMissing(Exception):
    """No usable signing key is configured: no head can be signed."""


def head_message(*, tree_size: int, timestamp: datetime, root_hash: str, streams_root: str) -> bytes:
    return canonical_json({
        "root_hash": root_hash, "streams_root": streams_root, "timestamp": timestamp_text(timestamp),
        "tree_size": tree_size,
    }).encode()


def key_statement_message(*, sequence: int, tree_size: int, timestamp: datetime, previous_public_key: str,
                          next_public_key: str | None) -> bytes:
    """What a key statement's signature covers: from `tree_size` + 1 and `timestamp` on, the next key
    signs heads and the previous one none."""
    return canonical_json({
        "format": KEY_STATEMENT_FORMAT, "next_public_key": next_public_key,
        "previous_public_key": previous_public_key, "sequence": sequence, "timestamp": timestamp_text(timestamp),
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
    """The configured key: LEDGER_SIGNING_KEY, else the file LEDGER_SIGNING_KEY_FILE names."""
    if settings.LEDGER_SIGNING_KEY:
        return load_private_key(settings.LEDGER_SIGNING_KEY)
    if settings.LEDGER_SIGNING_KEY_FILE:
        return private_key_from_file(Path(settings.LEDGER_SIGNING_KEY_FILE), "LEDGER_SIGNING_KEY_FILE")
    raise SigningKeyMissing("set LEDGER_SIGNING_KEY or LEDGER_SIGNING_KEY_FILE to sign tree heads")


def private_key_from_file(path: Path, named_by: str) -> Ed25519PrivateKey:
    if not path.is_file():
        raise SigningKeyMissing(f"{named_by} names {path}, which is not a file")
    return load_private_key(path.read_text())


def public_key_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()



def key_id(public_key: str) -> str:
    """A key's name: the SHA-256 (hex) of its raw public key (given as hex)."""
    return hashlib.sha256(bytes.fromhex(public_key)).hexdigest()
