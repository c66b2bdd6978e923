"""The AES-256 keys that encrypt Temporal payloads, as the settings name them.

Keys come from any of three places, read in this order and merged:

- `TEMPORAL_PAYLOAD_KEYS`: `id:base64key,id:base64key,...`;
- `TEMPORAL_PAYLOAD_KEY_FILE`: a file of `id:base64key` lines (blank lines and `#` comments allowed);
- `TEMPORAL_PAYLOAD_KEY_SOURCE`: the dotted path of a callable taking no argument that returns the
  keys, as `{id: 32 bytes}` or `[(id, 32 bytes), ...]`: the hook for a KMS or a secrets manager.

New payloads are encrypted under `TEMPORAL_PAYLOAD_CURRENT_KEY`, else under the last key read; every
key read decrypts. A key is never printed, only its id.
"""

import base64
import binascii
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

KEY_BYTES = 32  # AES-256
KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
README = "README.md, Encrypted Temporal payloads"


@dataclass(frozen=True)
class PayloadKeys:
    current: str
    keys: Mapping[str, bytes]


def configured_keys() -> PayloadKeys | None:
    """The keys the settings name; None when encryption is off (TEMPORAL_PAYLOAD_ENCRYPTION=off).

    Raises ImproperlyConfigured, naming the setting at fault, when encryption is on and no key can be
    read, or one is malformed."""
    if not settings.TEMPORAL_PAYLOAD_ENCRYPTION:
        return None
    keys: dict[str, bytes] = {}
    _merge(keys, parse_key_lines(settings.TEMPORAL_PAYLOAD_KEYS, "TEMPORAL_PAYLOAD_KEYS"), "TEMPORAL_PAYLOAD_KEYS")
    if settings.TEMPORAL_PAYLOAD_KEY_FILE:
        _merge(keys, _read_key_file(settings.TEMPORAL_PAYLOAD_KEY_FILE), "TEMPORAL_PAYLOAD_KEY_FILE")
    if settings.TEMPORAL_PAYLOAD_KEY_SOURCE:
        _merge(keys, _keys_from_source(settings.TEMPORAL_PAYLOAD_KEY_SOURCE), "TEMPORAL_PAYLOAD_KEY_SOURCE")
    if not keys:
        raise ImproperlyConfigured(
            "Temporal payloads are encrypted, but no key is configured: set TEMPORAL_PAYLOAD_KEYS, "
            "TEMPORAL_PAYLOAD_KEY_FILE or TEMPORAL_PAYLOAD_KEY_SOURCE, or TEMPORAL_PAYLOAD_ENCRYPTION=off "
            f"to send them in plain text ({README}).")
    current = settings.TEMPORAL_PAYLOAD_CURRENT_KEY or list(keys)[-1]
    if current not in keys:
        raise ImproperlyConfigured(f"TEMPORAL_PAYLOAD_CURRENT_KEY={current} names no configured key "
                                   f"(configured: {', '.join(keys)}).")
    return PayloadKeys(current=current, keys=keys)


def parse_key_lines(lines: Iterable[str], origin: str) -> list[tuple[str, bytes]]:
    """`id:base64key` entries; blank entries and `#` comments are skipped."""
    parsed = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key_id, separator, encoded = line.partition(":")
        if not separator:
            raise ImproperlyConfigured(f"{origin}: each key is written id:base64key (an entry has no colon).")
        parsed.append((key_id.strip(), _decoded(encoded.strip(), key_id.strip(), origin)))
    return parsed


def new_key_line(key_id: str) -> str:
    """A fresh random key, written as TEMPORAL_PAYLOAD_KEYS and key files take it."""
    _check_id(key_id, "the new key")
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"


def _decoded(encoded: str, key_id: str, origin: str) -> bytes:
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{origin}: key {key_id!r} is not valid base64.") from None
    if len(key) != KEY_BYTES:
        raise ImproperlyConfigured(f"{origin}: key {key_id!r} holds {len(key)} bytes; AES-256 takes {KEY_BYTES}.")
    return key


def _read_key_file(path: str) -> list[tuple[str, bytes]]:
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise ImproperlyConfigured(f"TEMPORAL_PAYLOAD_KEY_FILE={path} cannot be read: {error.strerror}.") from None
    return parse_key_lines(text.splitlines(), f"TEMPORAL_PAYLOAD_KEY_FILE={path}")


def _keys_from_source(dotted_path: str) -> list[tuple[str, bytes]]:
    try:
        source = import_string(dotted_path)
    except ImportError as error:
        raise ImproperlyConfigured(f"TEMPORAL_PAYLOAD_KEY_SOURCE={dotted_path} cannot be imported: {error}") from None
    returned = source()
    pairs = list(returned.items() if isinstance(returned, Mapping) else returned)
    for key_id, key in pairs:
        if not isinstance(key, bytes) or len(key) != KEY_BYTES:
            raise ImproperlyConfigured(f"TEMPORAL_PAYLOAD_KEY_SOURCE={dotted_path}: key {key_id!r} is not "
                                       f"{KEY_BYTES} bytes.")
    return pairs


def _merge(keys: dict[str, bytes], pairs: list[tuple[str, bytes]], origin: str) -> None:
    for key_id, key in pairs:
        _check_id(key_id, origin)
        if keys.get(key_id, key) != key:
            raise ImproperlyConfigured(f"{origin}: key id {key_id!r} is configured twice with different keys.")
        keys.pop(key_id, None)  # a key read again counts where it was read last
        keys[key_id] = key


def _check_id(key_id: str, origin: str) -> None:
    if not isinstance(key_id, str) or not KEY_ID.fullmatch(key_id):
        raise ImproperlyConfigured(f"{origin}: key id {key_id!r} must be 1 to 64 letters, digits, '.', '_' or '-'.")
