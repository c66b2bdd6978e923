"""Appending to the event store: the only code that writes events.

Validation (exact JSON within the configured limits, and the schemas an app declared for the
aggregate type: `eventstore.schemas`) and canonical JSON happen here; locking, numbering, hashing
and inserting happen in one statement, the database function `eventstore_append`
(`eventstore/sql/eventstore_append.sql`, with a shorter path for one event): one round trip, and in
autocommit mode its own transaction. A batch of more than PIPELINED_CHUNK_EVENTS events, outside a
caller's transaction, calls it once per chunk in one transaction, each chunk sent while the next is
validated.

Concurrency: a transaction-scoped advisory lock per stream serializes writers of one stream
(and only of that stream). The lock takes no transaction id, so the inserting transaction gets its
id after the previous writer of the stream committed: within a stream, commit order, version order
and (transaction id, position) order agree. Readers that follow the whole store rely on that (see
`selectors.read_all`). Call `append_events` in its own transaction, not inside one that has already
written, so that its transaction id is taken under the lock.
"""

import contextlib
import dataclasses
import uuid
from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence

import psycopg
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError

from eventstore import selectors, wakeups
from eventstore.actors import Actor
from eventstore.encoding import canonical_json, canonical_json_of_tree, normalize_json
from eventstore.errors import BatchTooLarge, EventTooLarge, IdempotencyConflict, InvalidEvent, WrongExpectedVersion
from eventstore.events import AppendResult, ExpectedVersion, NewEvent, RecordedEvent
from eventstore.models import NAME_MAX_LENGTH, STREAM_ID_MAX_LENGTH
from eventstore.personal_data import Sealer
from eventstore.schemas import check_event
from eventstore.store_metrics import timed_append

EVENT_ID_CONSTRAINT = "eventstore_event_event_id_key"
STREAM_VERSION_CONSTRAINT = "eventstore_event_stream_version"
MAX_ATTEMPTS = 3
# Batches larger than this are stored in chunks of this size, validated while the one before is stored.
PIPELINED_CHUNK_EVENTS = 200
APPEND = "SELECT * FROM eventstore_append(%b, %b, %b, %b, %b, %b, %b)"
# One event: its values as scalars, which the client sends at a fraction of the cost of four arrays.
APPEND_ONE = "SELECT * FROM eventstore_append(%b, %b, %b, ARRAY[%b]::uuid[], ARRAY[%b], ARRAY[%b], ARRAY[%b])"


class _Prepared(NamedTuple):
    """A validated event: canonical id, exact-JSON data and metadata as given (`data`, `metadata`), and
    as stored (`data_json`, `metadata_json`: personal fields encrypted, `eventstore.personal_data`)."""

    event_id: str
    event_uuid: uuid.UUID
    event_type: str
    data: dict
    metadata: dict
    data_json: str
    metadata_json: str


def append_events(
    *,
    stream_id: str,
    aggregate_type: str,
    events: Sequence[NewEvent],
    expected_version: int | ExpectedVersion,
    with_append: Callable[[AppendResult], None] | None = None,
    actor: Actor | None = None,
) -> AppendResult:
    """Append `events` to `stream_id` atomically, all or none.

    Raises WrongExpectedVersion when the stream is not where `expected_version` says, and
    IdempotencyConflict when an event id is already stored with other content. Re-sending a batch
    that is already stored returns the stored events (`already_stored=True`) and writes nothing.
    `with_append`, if given, runs in the append's transaction with the new events (not for a batch
    already stored): what it writes commits with them or not at all. `actor`, if given, is who wrote
    the events, as Django code authenticated them: it becomes every event's metadata `actor`,
    replacing any there.
    """
    events = list(events) if actor is None else _with_actor(events, actor)
    if len(events) > PIPELINED_CHUNK_EVENTS and with_append is None and not connection.in_atomic_block:
        _check_batch(stream_id, aggregate_type, events, expected_version)
        sealer = Sealer(aggregate_type, stream_id)
        if sealer.needs_key(getattr(event, "event_type", "") for event in events):
            sealer.take_key()  # before the pipeline, which sends the chunks without waiting for answers
        with timed_append():
            return (_append_pipelined(stream_id, aggregate_type, events, expected_version, sealer)
                    or _append_batch(stream_id, aggregate_type, _validated_batch(stream_id, aggregate_type, events,
                                                                                 expected_version), expected_version, None))
    batch = _validated_batch(stream_id, aggregate_type, events, expected_version)
    with timed_append():
        return _append_batch(stream_id, aggregate_type, batch, expected_version, with_append)


def _with_actor(events: Sequence[NewEvent], actor: Actor) -> list[NewEvent]:
    stamped = actor.to_dict()
    return [dataclasses.replace(event, metadata={**event.metadata, "actor": stamped})
            if isinstance(event, NewEvent) and isinstance(event.metadata, dict) else event for event in events]


def _append_pipelined(stream_id, aggregate_type, events, expected_version, sealer: Sealer) -> AppendResult | None:
    """A large batch in chunks, in one transaction: each chunk is validated while the database
    stores the one before (psycopg's pipeline mode), so checking and storing overlap. The first
    chunk takes the stream's lock and checks `expected_version`; the others follow it under that
    lock. None, with nothing written, when the batch met a conflict or a stored event id: the
    one-statement path then says which (or returns the batch already stored). A duplicate event id
    within the batch is refused by the events table's unique index, and so comes to the same path."""
    limits = _limits()
    sent = []
    try:
        with connection.wrap_database_errors, transaction.atomic():
            with connection.connection.pipeline():
                for start in range(0, len(events), PIPELINED_CHUNK_EVENTS):
                    chunk = [_validated_event(start + offset, event, sealer, limits)
                             for offset, event in enumerate(events[start:start + PIPELINED_CHUNK_EVENTS])]
                    expected = expected_version if start == 0 else ExpectedVersion.ANY
                    sent.append((_execute_append(stream_id, aggregate_type, chunk, expected), chunk))
            rows = [_fetched(cursor) for cursor, _ in sent]
            if rows[0][0] == "conflict":
                raise _NotAppended
    except (_NotAppended, IntegrityError):
        return None
    transaction.on_commit(wakeups.wake_readers, robust=True)
    return _appended(stream_id, aggregate_type, [
        event for row, (_, chunk) in zip(rows, sent) for event in _recorded(stream_id, aggregate_type, chunk, row)
    ])


def _fetched(cursor: psycopg.Cursor) -> tuple:
    with cursor:
        return cursor.fetchone()


class _NotAppended(Exception):
    """Rolls the pipelined append back, for the one-statement path to answer."""


def _append_batch(stream_id: str, aggregate_type: str, batch, expected_version, with_append) -> AppendResult:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with _own_transaction(with_append is not None):
                result = _append_under_lock(stream_id, aggregate_type, batch, expected_version)
                if with_append is not None and not result.already_stored:
                    with_append(result)
                    _check_can_commit()
                return result
        except IntegrityError as error:
            stored = _already_stored(stream_id, aggregate_type, batch)
            if stored is not None:
                return stored
            if _violated_constraint(error) == EVENT_ID_CONSTRAINT:
                raise IdempotencyConflict("An event id of this batch is already stored in another stream.") from error
            # Only a writer that bypasses the stream lock (raw SQL) can take our version first.
            if _violated_constraint(error) != STREAM_VERSION_CONSTRAINT or attempt == MAX_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _check_can_commit() -> None:
    """Django leaves a transaction that met an error it swallowed (a savepoint it could not roll back)
    by rolling it back, without a word: the append must not then report events it did not store."""
    if connection.needs_rollback:
        raise TransactionManagementError("The append's transaction met an error and cannot commit; nothing was stored.")


def _own_transaction(more_to_write: bool):
    """The append alone is one statement, so in autocommit mode it is its own transaction: no BEGIN
    and COMMIT round trips. With more to write, or inside a caller's transaction (then a savepoint,
    so that a failed append leaves that transaction usable), it needs a transaction block."""
    return transaction.atomic() if more_to_write or connection.in_atomic_block else contextlib.nullcontext()


def _append_under_lock(stream_id, aggregate_type, batch, expected_version) -> AppendResult:
    with connection.wrap_database_errors:
        row = _fetched(_execute_append(stream_id, aggregate_type, batch, expected_version))
    status, head_version = row[0], row[1]
    if status == "conflict":
        stored = _already_stored(stream_id, aggregate_type, batch)
        if stored is not None:
            return stored
        raise WrongExpectedVersion(stream_id, expected_version, head_version)
    transaction.on_commit(wakeups.wake_readers, robust=True)  # at once in autocommit mode
    return _appended(stream_id, aggregate_type, _recorded(stream_id, aggregate_type, batch, row))


def _execute_append(stream_id, aggregate_type, batch, expected_version) -> psycopg.Cursor:
    cursor = _server_binding_cursor()
    if len(batch) == 1:
        event = batch[0]
        cursor.execute(APPEND_ONE, [stream_id, aggregate_type, _expected_code(expected_version), event.event_uuid,
                                    event.event_type, event.data_json, event.metadata_json], binary=True)
        return cursor
    cursor.execute(APPEND, [
        stream_id, aggregate_type, _expected_code(expected_version),
        [event.event_uuid for event in batch], [event.event_type for event in batch],
        [event.data_json for event in batch], [event.metadata_json for event in batch],
    ], binary=True)
    return cursor


def _recorded(stream_id, aggregate_type, batch, row) -> list[RecordedEvent]:
    """The events of `batch` as the append function's result row says they were stored."""
    _, head_version, positions, hashes, recorded_at, transaction_id = row
    return [
        RecordedEvent(
            position=positions[offset], event_id=event.event_uuid, stream_id=stream_id,
            aggregate_type=aggregate_type, version=head_version + offset + 1, event_type=event.event_type,
            data=event.data, metadata=event.metadata, recorded_at=recorded_at, transaction_id=transaction_id,
            prev_hash=hashes[offset], hash=hashes[offset + 1],
        )
        for offset, event in enumerate(batch)
    ]


def _appended(stream_id: str, aggregate_type: str, events: list[RecordedEvent]) -> AppendResult:
    return AppendResult(stream_id=stream_id, events=tuple(events), version=events[-1].version)


_EXPECTED_CODES = {ExpectedVersion.ANY: -1, ExpectedVersion.NO_STREAM: -2, ExpectedVersion.STREAM_EXISTS: -3}


def _expected_code(expected: int | ExpectedVersion) -> int:
    return _EXPECTED_CODES[expected] if isinstance(expected, ExpectedVersion) else expected


def _server_binding_cursor() -> psycopg.Cursor:
    """A psycopg cursor on Django's connection (same transaction) that sends parameters apart from
    the query, in binary (%b): Django's client-side binding would quote every array element. Results
    come back in binary too (`binary=True`), which spares both sides printing and parsing text."""
    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def _already_stored(stream_id, aggregate_type, batch) -> AppendResult | None:
    """The stored result if this exact batch was appended before, None if none of it was."""
    wanted = {event.event_id: event for event in batch}
    stored = selectors.events_by_ids(list(wanted), as_stored=True)
    if not stored:
        return None
    if len(stored) != len(wanted):
        raise IdempotencyConflict(
            f"{len(stored)} of the {len(wanted)} event ids of this batch are already stored: "
            "a retried batch must resend exactly the same events."
        )
    for recorded in stored:
        event = wanted[str(recorded.event_id)]
        same = (
            recorded.stream_id == stream_id
            and recorded.aggregate_type == aggregate_type
            and recorded.event_type == event.event_type
            and canonical_json(recorded.data) == canonical_json(event.data)
            and canonical_json(recorded.metadata) == canonical_json(event.metadata)
        )
        if not same:
            raise IdempotencyConflict(
                f"Event id {recorded.event_id} is already stored with other content "
                f"({recorded.stream_id} v{recorded.version} {recorded.event_type})."
            )
    return AppendResult(stream_id=stream_id, events=tuple(stored), version=stored[-1].version, already_stored=True)


def _violated_constraint(error: IntegrityError) -> str | None:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def _validated_batch(stream_id, aggregate_type, events, expected_version) -> list[_Prepared]:
    events = list(events)
    _check_batch(stream_id, aggregate_type, events, expected_version)
    limits, sealer = _limits(), Sealer(aggregate_type, stream_id)
    prepared = [_validated_event(index, event, sealer, limits) for index, event in enumerate(events)]
    if len({event.event_id for event in prepared}) != len(prepared):
        raise InvalidEvent("The batch repeats an event id; every event needs its own.")
    return prepared


def _check_batch(stream_id, aggregate_type, events: list, expected_version) -> None:
    """What a batch must be before its events are looked at."""
    _check_name("stream id", stream_id, STREAM_ID_MAX_LENGTH)
    _check_name("aggregate type", aggregate_type, NAME_MAX_LENGTH)
    _check_expected_version(expected_version)
    if not events:
        raise InvalidEvent("An append needs at least one event.")
    if len(events) > settings.EVENTSTORE_MAX_BATCH_EVENTS:
        raise BatchTooLarge(
            f"A batch may hold at most {settings.EVENTSTORE_MAX_BATCH_EVENTS} events; this one has {len(events)}."
        )


def _limits() -> "_Limits":
    return _Limits(settings.EVENTSTORE_MAX_EVENT_BYTES, settings.EVENTSTORE_MAX_JSON_DEPTH,
                   settings.EVENTSTORE_MAX_INTEGER_DIGITS)


@dataclass(frozen=True)
class _Limits:
    max_bytes: int
    max_depth: int
    max_integer_digits: int


def _validated_event(index: int, event: NewEvent, sealer: Sealer, limits: _Limits) -> _Prepared:
    if not isinstance(event, NewEvent):
        raise InvalidEvent(f"events[{index}] is a {type(event).__name__}, not a NewEvent.")
    event_uuid = _event_uuid(index, event.event_id)
    _check_name(f"events[{index}].event_type", event.event_type, NAME_MAX_LENGTH)
    for name, value in (("data", event.data), ("metadata", event.metadata)):
        if not isinstance(value, dict):
            raise InvalidEvent(f"events[{index}].{name} must be a JSON object (dict), not {type(value).__name__}.")
    data = normalize_json(event.data, f"events[{index}].data", max_depth=limits.max_depth,
                          max_integer_digits=limits.max_integer_digits)
    metadata = normalize_json(event.metadata, f"events[{index}].metadata", max_depth=limits.max_depth,
                              max_integer_digits=limits.max_integer_digits)
    check_event(sealer.aggregate_type, event.event_type, data, metadata, label=f"events[{index}]")
    stored_data, stored_metadata = sealer.seal(f"events[{index}]", str(event_uuid), event.event_type, data, metadata)
    data_json, metadata_json = canonical_json_of_tree(stored_data), canonical_json_of_tree(stored_metadata)
    size = _utf8_length(data_json) + _utf8_length(metadata_json)
    if size > limits.max_bytes:
        raise EventTooLarge(f"events[{index}] encodes to {size} bytes; the limit is {limits.max_bytes}.")
    return _Prepared(str(event_uuid), event_uuid, event.event_type, data, metadata, data_json, metadata_json)


def _utf8_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


def _event_uuid(index: int, event_id) -> uuid.UUID:
    if type(event_id) is uuid.UUID:
        return event_id
    try:
        return uuid.UUID(str(event_id))
    except ValueError:
        raise InvalidEvent(f"events[{index}].event_id {event_id!r} is not a UUID.") from None


def _check_name(label: str, value, max_length: int) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidEvent(f"The {label} must be a non-empty string.")
    if len(value) > max_length:
        raise InvalidEvent(f"The {label} is {len(value)} characters long; the limit is {max_length}.")
    if value != value.strip() or not value.isprintable():
        raise InvalidEvent(f"The {label} {value!r} has surrounding spaces or control characters.")


def _check_expected_version(expected) -> None:
    if isinstance(expected, ExpectedVersion):
        return
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
        raise InvalidEvent(f"expected_version must be ANY, NO_STREAM, STREAM_EXISTS or an int >= 0, not {expected!r}.")
