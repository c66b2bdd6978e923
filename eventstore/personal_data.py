"""Personal fields under per-subject keys: what lets the store forget a person's data without breaking
a single hash, seal, tree head or proof (crypto-shredding).

An app marks the personal fields of its events in their schemas (`"x-personal": true` on a top-level
property of an event type's data schema, or of the metadata schema; `eventstore.registry.EventSchemas`).
The data subject of an event's personal fields is its stream: `<aggregate type in lower case>:<stream
id>`, e.g. `payment:payment-123`. A stream id is no personal data, so the subject can stand in clear
beside the ciphertext; a person's own id could not.

Writing (`Sealer`, called by `eventstore.store` before the append): each personal field's value is
replaced by an envelope `{"$enc": {"subject", "key_id", "ct"}}`, its JSON encrypted with AES-256-GCM
under the subject's key (a 96-bit random nonce before the ciphertext, base64), bound to the event id,
the subject and the field's place (associated data), so a ciphertext moved to another event or field
does not open. The event's hash covers the envelope, as stored.

Keys: one per subject, 256 random bits, wrapped (AES-256-GCM) by the master key
(`settings.PERSONAL_DATA_MASTER_KEY`, base64 of 32 bytes; by default derived from SECRET_KEY), in
the table `eventstore_personaldatakey`, which the application role cannot read: it gets the keys of
the subjects it names through `eventstore_personal_data_keys(...)`, creates one through
`eventstore_personal_data_key_create(...)` (eventstore/sql/). Erasing a subject
(`eventstore.erasure`) deletes its key; events written afterwards for the subject get a new one.

Reading (`open_events`, `KeyRing`): every read path of the store turns stored events into read values
in `eventstore.selectors`, which opens the envelopes of a whole page with one key lookup. A value whose
key is gone reads as ERASED; one that does not decrypt (tampered) as UNREADABLE. Events written before
personal fields were declared hold plaintext and read as they are.
"""

import base64
import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from typing import Iterable, Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import connection

from eventstore import registry
from eventstore.errors import InvalidEvent
from eventstore.events import RecordedEvent

ENVELOPE = "$enc"
PERSONAL = "x-personal"  # the schema keyword that marks a personal field
ERASED = "[erased]"
UNREADABLE = "[unreadable]"
NONCE_BYTES = 12
KEY_COLUMNS = "subject, key_id, wrapped_key, created_at"


def subject_of(aggregate_type: str, stream_id: str) -> str:
    """The data subject of a stream's personal fields."""
    return f"{aggregate_type.lower()}:{stream_id}"


def stream_of(subject: str) -> tuple[str, str] | None:
    """The (aggregate type, stream id) a subject stands for, when an app declared the aggregate type."""
    prefix, _, stream_id = subject.partition(":")
    for aggregate_type in registry.event_schemas():
        if aggregate_type.lower() == prefix and stream_id:
            return aggregate_type, stream_id
    return None


@dataclass(frozen=True)
class PersonalFields:
    data: frozenset[str]
    metadata: frozenset[str]


NONE = PersonalFields(frozenset(), frozenset())
_declared: dict[tuple[str, str], tuple[object, PersonalFields]] = {}


def personal_fields(aggregate_type: str, event_type: str) -> PersonalFields:
    """The fields an event type's schemas mark personal (NONE when its app declared none)."""
    schemas = registry.event_schemas().get(aggregate_type)
    if schemas is None:
        return NONE
    cached = _declared.get((aggregate_type, event_type))
    if cached is not None and cached[0] is schemas:
        return cached[1]
    fields = PersonalFields(_marked(schemas.data.get(event_type, {})), _marked(schemas.metadata))
    _declared[(aggregate_type, event_type)] = (schemas, fields)
    return fields


def _marked(schema: dict) -> frozenset[str]:
    return frozenset(name for name, field in schema.get("properties", {}).items()
                     if isinstance(field, dict) and field.get(PERSONAL) is True)


@dataclass(frozen=True)
class SubjectKey:
    subject: str
    key_id: str
    cipher: AESGCM
    created_at: object


def master_key() -> bytes:
    """The key that wraps every subject's key: PERSONAL_DATA_MASTER_KEY (base64 of 32 bytes), or,
    when unset (development), SHA-256 of a label and SECRET_KEY."""
    configured = settings.PERSONAL_DATA_MASTER_KEY
    if not configured:
        return hashlib.sha256(b"eventstore personal data master key\x00" + settings.SECRET_KEY.encode()).digest()
    key = base64.b64decode(configured, validate=True)
    if len(key) != 32:
        raise ValueError(f"PERSONAL_DATA_MASTER_KEY must be the base64 of 32 bytes, not of {len(key)}.")
    return key


def _wrap(subject: str, key_id: uuid.UUID, key: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(master_key()).encrypt(nonce, key, f"{subject}|{key_id}".encode())


def _unwrapped(row: tuple) -> SubjectKey:
    subject, key_id, wrapped, created_at = row
    wrapped = bytes(wrapped)
    key = AESGCM(master_key()).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], f"{subject}|{key_id}".encode())
    return SubjectKey(subject, str(key_id), AESGCM(key), created_at)


def _call(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def subject_keys(subjects: Iterable[str]) -> dict[str, SubjectKey]:
    """The existing keys of these subjects, by subject: one call to the database."""
    wanted = sorted(set(subjects))
    if not wanted:
        return {}
    rows = _call(f"SELECT {KEY_COLUMNS} FROM eventstore_personal_data_keys(%s)", [wanted])
    return {row[0]: _unwrapped(row) for row in rows}


def writing_key(subject: str) -> SubjectKey:
    """The subject's key, made now if it has none (an erased subject gets a new one)."""
    key_id = uuid.uuid4()
    rows = _call(f"SELECT {KEY_COLUMNS} FROM eventstore_personal_data_key_create(%s, %s, %s)",
                 [subject, key_id, _wrap(subject, key_id, AESGCM.generate_key(bit_length=256))])
    return _unwrapped(rows[0])


def _associated_data(subject: str, event_id: str, place: str) -> bytes:
    return f"{subject}|{event_id}|{place}".encode()


class Sealer:
    """Encrypts the personal fields of one stream's new events, under the stream's subject key (taken
    once, at the first event that has any)."""

    def __init__(self, aggregate_type: str, stream_id: str):
        self.aggregate_type = aggregate_type
        self.subject = subject_of(aggregate_type, stream_id)
        self._key: SubjectKey | None = None

    def needs_key(self, event_types: Iterable[str]) -> bool:
        return any(personal_fields(self.aggregate_type, event_type) != NONE for event_type in set(event_types))

    def take_key(self) -> None:
        if self._key is None:
            self._key = writing_key(self.subject)

    def seal(self, label: str, event_id: str, event_type: str, data: dict, metadata: dict) -> tuple[dict, dict]:
        """`data` and `metadata` as stored: the personal fields as envelopes. Refuses an event that
        brings envelopes of its own (only the store makes them)."""
        _refuse_envelopes(label, data, metadata)
        fields = personal_fields(self.aggregate_type, event_type)
        if fields == NONE:
            return data, metadata
        return (self._sealed(event_id, "data", data, fields.data),
                self._sealed(event_id, "metadata", metadata, fields.metadata))

    def _sealed(self, event_id: str, part: str, values: dict, names: frozenset[str]) -> dict:
        present = names.intersection(values)
        if not present:
            return values
        self.take_key()
        key = self._key
        sealed = dict(values)
        for name in present:
            nonce = os.urandom(NONCE_BYTES)
            plaintext = json.dumps(values[name], ensure_ascii=False, separators=(",", ":")).encode()
            ciphertext = key.cipher.encrypt(nonce, plaintext, _associated_data(key.subject, event_id, f"{part}.{name}"))
            sealed[name] = {ENVELOPE: {"subject": key.subject, "key_id": key.key_id,
                                       "ct": base64.b64encode(nonce + ciphertext).decode()}}
        return sealed


def _refuse_envelopes(label: str, data: dict, metadata: dict) -> None:
    for part, values in (("data", data), ("metadata", metadata)):
        for name, value in values.items():
            if isinstance(value, dict) and ENVELOPE in value:
                raise InvalidEvent(f"{label}.{part}.{name} holds a {ENVELOPE!r} object: only the store encrypts fields.")


def _envelope(value) -> dict | None:
    if type(value) is dict and len(value) == 1:
        inner = value.get(ENVELOPE)
        if type(inner) is dict:
            return inner
    return None


def _places(values: Mapping) -> list[tuple[str, dict]]:
    """The (field, envelope) pairs of `values`."""
    return [(name, inner) for name, value in values.items() if (inner := _envelope(value)) is not None]


def is_sealed(data: Mapping, metadata: Mapping) -> bool:
    return bool(_places(data) or _places(metadata))


class KeyRing:
    """The keys of one read: each subject looked up once (`load`), however many events name it. Kept
    for one read only, so that an erasure shows at the next one."""

    def __init__(self):
        self._keys: dict[str, SubjectKey | None] = {}

    def load(self, subjects: Iterable[str]) -> None:
        missing = set(subjects) - self._keys.keys()
        if missing:
            found = subject_keys(missing)
            self._keys.update({subject: found.get(subject) for subject in missing})

    def load_for(self, values: Iterable[Mapping]) -> None:
        """Load, in one lookup, the keys of every subject these data and metadata name."""
        self.load({str(inner.get("subject")) for part in values for _, inner in _places(part)})

    def opened(self, event_id: str, data: dict, metadata: dict) -> tuple[dict, dict]:
        """`data` and `metadata` with every envelope opened (loading the keys it lacks)."""
        return self.opened_at(event_id, data, _places(data), metadata, _places(metadata))

    def opened_at(self, event_id: str, data: dict, data_places: list, metadata: dict,
                  metadata_places: list) -> tuple[dict, dict]:
        if not data_places and not metadata_places:
            return data, metadata
        self.load({str(inner.get("subject")) for _, inner in (*data_places, *metadata_places)})
        return self._opened(event_id, "data", data, data_places), self._opened(event_id, "metadata", metadata,
                                                                               metadata_places)

    def _opened(self, event_id: str, part: str, values: dict, places: list[tuple[str, dict]]) -> dict:
        if not places:
            return values
        opened = dict(values)
        for name, inner in places:
            opened[name] = self._plaintext(event_id, f"{part}.{name}", inner)
        return opened

    def _plaintext(self, event_id: str, place: str, inner: dict):
        key = self._keys.get(str(inner.get("subject")))
        if key is None or key.key_id != inner.get("key_id"):
            return ERASED
        try:
            sealed = base64.b64decode(str(inner.get("ct", "")), validate=True)
            plaintext = key.cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:],
                                           _associated_data(key.subject, event_id, place))
        except (ValueError, InvalidTag):
            return UNREADABLE
        return _DECODE(plaintext.decode())


_DECODE = json.JSONDecoder().decode


def open_events(events: list[RecordedEvent]) -> list[RecordedEvent]:
    """The events with their personal fields in plaintext (or ERASED): one key lookup for the lot."""
    places = [(event, _places(event.data), _places(event.metadata)) for event in events]
    sealed = [entry for entry in places if entry[1] or entry[2]]
    if not sealed:
        return events
    ring = KeyRing()
    ring.load({str(inner.get("subject")) for _, data, metadata in sealed for _, inner in (*data, *metadata)})
    return [_opened_event(ring, *entry) for entry in places]


def _opened_event(ring: KeyRing, event: RecordedEvent, data_places: list, metadata_places: list) -> RecordedEvent:
    if not data_places and not metadata_places:
        return event
    data, metadata = ring.opened_at(str(event.event_id), event.data, data_places, event.metadata, metadata_places)
    # dataclasses.replace costs more than the decryption; the fields in their declared order
    return RecordedEvent(event.position, event.event_id, event.stream_id, event.aggregate_type, event.version,
                         event.event_type, data, metadata, event.recorded_at, event.transaction_id, event.prev_hash,
                         event.hash)
