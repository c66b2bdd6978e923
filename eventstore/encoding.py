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
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidEvent(f"{path} contains a NUL character, which PostgreSQL cannot store.")
        return value
    if isinstance(value, int) or value is None:  # bool is an int
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


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 as is: one text per value, whatever produced it."""
    return _CANONICAL.encode(value)


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
    data_json: str,
    metadata_json: str,
    recorded_at: datetime,
) -> str:
    """SHA-256 over the canonical encoding of every stored field of an event and its predecessor's hash.

    The document is canonical JSON with sorted keys; `data_json` and `metadata_json` are already
    canonical (see `canonical_json`), so they are spliced in rather than encoded again.
    """
    dump = _CANONICAL.encode
    document = (
        f'{{"aggregate_type":{dump(aggregate_type)},"data":{data_json},'
        f'"event_id":{dump(event_id)},"event_type":{dump(event_type)},'
        f'"metadata":{metadata_json},"position":{int(position)},"prev_hash":{dump(prev_hash)},'
        f'"recorded_at":{dump(timestamp_text(recorded_at))},"stream_id":{dump(stream_id)},'
        f'"version":{int(version)}}}'
    )
    return hashlib.sha256(document.encode()).hexdigest()


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
