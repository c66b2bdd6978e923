"""Synthetic history for tests and benchmarks: events with chosen timestamps, loaded fast.

The store itself stamps every event with the server's clock; analytics over a year of history needs
events spread over a year. This loader writes new streams with COPY, numbering, timestamping and
hash-chaining them exactly as `eventstore_append` would (verify_event_chain passes), but with the
given times. It is not an import path for real history: nothing in the product calls it.
"""

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction

from eventstore.encoding import GENESIS_HASH, canonical_json, event_hash

COLUMNS = "position, event_id, stream_id, aggregate_type, version, event_type, data, metadata, recorded_at, prev_hash, hash"


@dataclass(frozen=True)
class SyntheticEvent:
    stream_id: str
    event_type: str
    data: dict
    recorded_at: datetime
    metadata: dict = field(default_factory=dict)
    aggregate_type: str = "Payment"


def load_history(events: Iterable[SyntheticEvent], *, chunk: int = 20_000) -> int:
    """Write `events` (each stream's events in order, streams new to the store); returns the count."""
    versions: dict[str, tuple[int, str]] = {}
    written, pending = 0, []
    for event in events:
        pending.append(event)
        if len(pending) == chunk:
            written += _copy(pending, versions)
            pending = []
    if pending:
        written += _copy(pending, versions)
    return written


@contextmanager
def indexes_built_after(table: str = "eventstore_event") -> Iterator[None]:
    """Drop `table`'s indexes that back no constraint, and build them again on the way out (as they
    were defined): for a load large beside what the table holds, building an index once is faster
    than growing it row by row. The constraints' indexes stay, so every row is still checked."""
    with connection.cursor() as cursor:
        cursor.execute("""SELECT index.relname, pg_get_indexdef(pg_index.indexrelid)
                          FROM pg_index JOIN pg_class AS index ON index.oid = pg_index.indexrelid
                          WHERE pg_index.indrelid = %s::regclass
                            AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = pg_index.indexrelid)""",
                       [table])
        definitions = cursor.fetchall()
        for name, _ in definitions:
            cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '256MB'")
            for _, definition in definitions:
                cursor.execute(definition)
            cursor.execute("RESET maintenance_work_mem")


def _copy(events: list[SyntheticEvent], versions: dict[str, tuple[int, str]]) -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT nextval('eventstore_event_position_seq') FROM generate_series(1, %s)", [len(events)])
        positions = [row[0] for row in cursor.fetchall()]
        with connection.connection.cursor().copy(f"COPY eventstore_event ({COLUMNS}) FROM STDIN") as copy:
            for event, position in zip(events, positions):  # the server stores rows while the next are made
                copy.write_row(_row(event, position, versions))
    return len(events)


def _row(event: SyntheticEvent, position: int, versions: dict[str, tuple[int, str]]) -> tuple:
    version, prev_hash = versions.get(event.stream_id, (0, GENESIS_HASH))
    event_id, data_json, metadata_json = str(uuid.uuid4()), canonical_json(event.data), canonical_json(event.metadata)
    digest = event_hash(prev_hash=prev_hash, position=position, event_id=event_id, stream_id=event.stream_id,
                        aggregate_type=event.aggregate_type, version=version + 1, event_type=event.event_type,
                        data_json=data_json, metadata_json=metadata_json, recorded_at=event.recorded_at)
    versions[event.stream_id] = (version + 1, digest)
    return (position, event_id, event.stream_id, event.aggregate_type, version + 1, event.event_type,
            data_json, metadata_json, event.recorded_at, prev_hash, digest)
