"""Temporal payloads encrypted with AES-256-GCM before they leave the process.

Every client and worker of the project encodes with this codec (`connection.data_converter()`), so
workflow inputs, results, activity inputs and results, signals, queries and failure details reach the
Temporal server (and its database) as ciphertext. Each encrypted payload says which key encrypted
it, in its metadata (`encryption-key-id`), so a payload written under an older key still decrypts
after a newer one became current. A payload without the `binary/encrypted` encoding passes through
unchanged: histories recorded before encryption was turned on still replay.

The whole original payload (its metadata and data) is encrypted; the key id is the associated data,
so a payload moved under another id does not decrypt.
"""

import os
from typing import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec
from temporalio.exceptions import ApplicationError

from eventstore.temporal.payload_keys import PayloadKeys, configured_keys

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
SETTINGS = ("TEMPORAL_PAYLOAD_ENCRYPTION", "TEMPORAL_PAYLOAD_KEYS", "TEMPORAL_PAYLOAD_KEY_FILE",
            "TEMPORAL_PAYLOAD_KEY_SOURCE", "TEMPORAL_PAYLOAD_CURRENT_KEY")


class PayloadNotDecryptable(ApplicationError):
    """A payload this process cannot decrypt: its key is unknown here, or it does not authenticate.

    Non-retryable: a workflow task that meets one fails its workflow at once with this message
    instead of retrying forever; a client raises it to its caller."""

    TYPE = "PayloadNotDecryptable"

    def __init__(self, message: str):
        super().__init__(message, type=self.TYPE, non_retryable=True)


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: PayloadKeys):
        self.current = keys.current
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        key_id = self.current.encode()
        ciphertext = self._ciphers[self.current].encrypt(nonce, payload.SerializeToString(), key_id)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id}, data=nonce + ciphertext)

    def decrypt(self, payload: Payload) -> Payload:
        """The original payload; one not encrypted is returned as it is."""
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode("utf-8", "replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadNotDecryptable(
                f"A Temporal payload is encrypted under key {key_id!r}, which this process does not have "
                f"(it has {', '.join(sorted(self._ciphers))}): add that key to TEMPORAL_PAYLOAD_KEYS, "
                f"TEMPORAL_PAYLOAD_KEY_FILE or TEMPORAL_PAYLOAD_KEY_SOURCE.")
        try:
            plaintext = cipher.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], key_id.encode())
            return Payload.FromString(plaintext)
        except (InvalidTag, ValueError, DecodeError):
            raise PayloadNotDecryptable(
                f"A Temporal payload under key {key_id!r} does not decrypt: the key configured under that id "
                f"is not the one that encrypted it, or the payload was altered.") from None


_codecs: dict[tuple, EncryptionCodec | None] = {}


def payload_codec() -> EncryptionCodec | None:
    """The codec the settings configure; None when TEMPORAL_PAYLOAD_ENCRYPTION=off. The keys are read
    once per process (a KMS is asked once): a process picks up new keys when it restarts."""
    configured = tuple(str(getattr(settings, name)) for name in SETTINGS)
    if configured not in _codecs:
        keys = configured_keys()
        _codecs[configured] = EncryptionCodec(keys) if keys else None
    return _codecs[configured]
