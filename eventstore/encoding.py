"""Canonical JSON for event payloads and the SHA-256 hash chain over it. Pure Python.

Only exact JSON types are accepted (objects with string keys, arrays, strings, integers, booleans,
null): a float would lose precision and PostgreSQL's JSONB would re-encode it, breaking the hash.
Decimals are stored as their string form, which is how money travels everywhere in the project.
"""

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from eventstore.errors import InvalidEvent

GENESIS_HASH = "0" * 64


def normalize_json(value: Any, path: str) -> Any:
    """Return `value` as exact JSON types, or raise InvalidEvent naming the offending path."""
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidEvent(f"{path} contains a NUL character, which PostgreSQL cannot store.")
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidEvent(f"{path} is {value}, not a finite decimal.")
        return str(value)
    if isinstance(value, float):
        raise InvalidEvent(f"{path} is a float ({value!r}); send money and other decimals as strings, e.g. \"10.50\".")
    if isinstance(value, dict):
        return {_key(key, path): normalize_json(item, f"{path}.{key}") for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalize_json(item, f"{path}[{index}]") for index, item in enumerate(value)]
    raise InvalidEvent(f"{path} is a {type(value).__name__}, which is not JSON; use strings, numbers, lists or objects.")


def _key(key: Any, path: str) -> str:
    if not isinstance(key, str):
        raise InvalidEvent(f"{path} has a key {key!r} that is not a string.")
    return key


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def timestamp_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(
    *,
    prev_hash: str,
    position: int,
    event_id: str,
    stream_id: str,
    aggregate_type: str,
    version: int,
    event_type: str,
    data: dict,
    metadata: dict,
    recorded_at: datetime,
) -> str:
    """SHA-256 over the canonical encoding of every stored field of an event and its predecessor's hash."""
    document = {
        "prev_hash": prev_hash,
        "position": position,
        "event_id": event_id,
        "stream_id": stream_id,
        "aggregate_type": aggregate_type,
        "version": version,
        "event_type": event_type,
        "data": data,
        "metadata": metadata,
        "recorded_at": timestamp_text(recorded_at),
    }
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()


DIGEST_MODULUS = 2**256


def add_to_digest(digest: int, event_hash_hex: str) -> int:
    """An order-independent digest of a set of event hashes: their sum modulo 2**256."""
    return (digest + int(event_hash_hex, 16)) % DIGEST_MODULUS


def digest_text(digest: int) -> str:
    return f"{digest:064x}"


def seal_hash(*, prev_hash: str, sealed_at: datetime, transaction_horizon: int, event_count: int, events_digest: str) -> str:
    document = {
        "prev_hash": prev_hash,
        "sealed_at": timestamp_text(sealed_at),
        "transaction_horizon": transaction_horizon,
        "event_count": event_count,
        "events_digest": events_digest,
    }
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()
