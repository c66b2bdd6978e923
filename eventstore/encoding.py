"""Canonical JSON for event payloads and the SHA-256 hash chain over it. Pure Python.

Only exact JSON types are accepted (objects with string keys, arrays, strings, integers, booleans,
null): a float would lose precision and PostgreSQL's JSONB would re-encode it, breaking the hash.
Decimals are stored as their string form, which is how money travels everywhere in the project.
"""

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from json.encoder import c_make_encoder, encode_basestring
from typing import Any

from eventstore.errors import InvalidEvent

GENESIS_HASH = "0" * 64


DEFAULT_MAX_DEPTH = 32
DEFAULT_MAX_INTEGER_DIGITS = 18  # every such integer fits PostgreSQL's bigint


def normalize_json(value: Any, path: str, *, max_depth: int = DEFAULT_MAX_DEPTH,
                   max_integer_digits: int = DEFAULT_MAX_INTEGER_DIGITS) -> Any:
    """Return `value` as exact JSON types, or raise InvalidEvent naming the offending path.

    Objects and arrays may nest `max_depth` levels (`value` itself is the first), integers have at
    most `max_integer_digits` digits, and text is valid Unicode that PostgreSQL can store (no NUL, no
    lone surrogate) in keys and values alike.
    """
    limit = 10**max_integer_digits
    return _normalized(value, path, 1, max_depth, limit, max_integer_digits)


def _normalized(value: Any, path: str, depth: int, max_depth: int, limit: int, digits: int) -> Any:
    if _is_plain_scalar(value, limit):
        return value
    if isinstance(value, str):
        _check_text(value, path, "contains")
        return value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        if not -limit < value < limit:
            raise InvalidEvent(f"{_shown(path)} is an integer of more than {digits} digits; "
                               "send large numbers as strings.")
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidEvent(f"{_shown(path)} is {value}, not a finite decimal.")
        return str(value)
    if isinstance(value, float):
        raise InvalidEvent(f"{_shown(path)} is a float ({value!r}); send money and other decimals as strings, "
                           "e.g. \"10.50\".")
    if isinstance(value, (dict, list, tuple)) and depth > max_depth:
        raise InvalidEvent(f"{_shown(path)} nests objects and arrays deeper than {max_depth} levels.")
    if isinstance(value, dict):
        return {
            key if _is_plain_text(key) else _key(key, path):
            item if _is_plain_scalar(item, limit) else _normalized(item, f"{path}.{key}", depth + 1, max_depth, limit, digits)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [item if _is_plain_scalar(item, limit) else _normalized(item, f"{path}[{index}]", depth + 1, max_depth, limit, digits)
                for index, item in enumerate(value)]
    raise InvalidEvent(f"{_shown(path)} is a {type(value).__name__}, which is not JSON; "
                       "use strings, numbers, lists or objects.")


def _is_plain_scalar(value: Any, limit: int) -> bool:
    """The common case, kept as is without building its path: ASCII text without NUL, an integer within
    the limit, a boolean or null (exact types: subclasses take the full checks)."""
    kind = type(value)
    if kind is str:
        return _is_plain_text(value)
    if kind is int:
        return -limit < value < limit
    return kind is bool or value is None


def _is_plain_text(text: Any) -> bool:
    return type(text) is str and text.isascii() and "\x00" not in text


def _key(key: Any, path: str) -> str:
    if not isinstance(key, str):
        raise InvalidEvent(f"{_shown(path)} has a key {key!r} that is not a string.")
    _check_text(key, path, f"has a key {_shortened(repr(key))} that contains")
    return key


def _check_text(text: str, path: str, what: str) -> None:
    if "\x00" in text:
        raise InvalidEvent(f"{_shown(path)} {what} a NUL character, which PostgreSQL cannot store.")
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            raise InvalidEvent(f"{_shown(path)} {what} a lone surrogate (\\ud800-\\udfff), which is not "
                               "Unicode text.") from None


def _shortened(text: str, length: int = 60) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def _shown(path: str) -> str:
    """A path fit for an error message: keys may hold lone surrogates, which no message may carry."""
    return path.encode("utf-8", "backslashreplace").decode()


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
# `_CANONICAL`'s C encoder, made once rather than per value as `JSONEncoder.encode` does, and without
# its check for circular references: only for values that cannot have any (parsed or normalized).
_ENCODE_TREE = (
    c_make_encoder(None, _CANONICAL.default, encode_basestring, None, ":", ",", True, False, True)
    if c_make_encoder is not None else None
)


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 as is: one text per value, whatever produced it."""
    return _CANONICAL.encode(value)


def canonical_json_of_tree(value: Any) -> str:
    """`canonical_json` of a value that holds no reference cycle, as `normalize_json` returns: faster."""
    if _ENCODE_TREE is None or isinstance(value, str):
        return _CANONICAL.encode(value)
    return "".join(_ENCODE_TREE(value, 0))


def canonical_json_of_texts(texts: list[str]) -> list[str]:
    """`canonical_json` of each of many JSON texts (jsonb as PostgreSQL prints it), all parsed at once."""
    return [canonical_json_of_tree(value) for value in json.loads("[" + ",".join(texts) + "]")]


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
    """SHA-256 over the canonical encoding of every stored field of an event and its predecessor's hash."""
    document = event_document(
        prev_hash=prev_hash, position=position, event_id=event_id, stream_id=stream_id, aggregate_type=aggregate_type,
        version=version, event_type=event_type, data_json=data_json, metadata_json=metadata_json,
        recorded_at=timestamp_text(recorded_at),
    )
    return hashlib.sha256(document.encode()).hexdigest()


def event_document(
    *, prev_hash: str, position: int, event_id: str, stream_id: str, aggregate_type: str, version: int,
    event_type: str, data_json: str, metadata_json: str, recorded_at: str,
) -> str:
    """The canonical JSON of an event, the text its hash is taken of: keys sorted, no spaces.

    `data_json` and `metadata_json` are already canonical (see `canonical_json`), so they are spliced
    in rather than encoded again; `recorded_at` is `timestamp_text` of the time.
    """
    dump = encode_basestring  # what `canonical_json` does with a string, without its per-call overhead
    return (
        f'{{"aggregate_type":{dump(aggregate_type)},"data":{data_json},'
        f'"event_id":{dump(event_id)},"event_type":{dump(event_type)},'
        f'"metadata":{metadata_json},"position":{int(position)},"prev_hash":{dump(prev_hash)},'
        f'"recorded_at":{dump(recorded_at)},"stream_id":{dump(stream_id)},'
        f'"version":{int(version)}}}'
    )


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
