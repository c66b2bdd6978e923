"""Tamper evidence: re-check every stream's SHA-256 chain and compare it with the recorded heads.

The scan walks events in (stream id, version) order through a server-side cursor, so memory stays
constant whatever the store's size, inside one read-only REPEATABLE READ transaction, so appends
made meanwhile cannot look like tampering.
"""

import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterator

from django.db import connection, transaction

from eventstore.encoding import GENESIS_HASH, event_hash
from eventstore.models import Event, Stream

CHUNK_SIZE = 5000
_EVENT_FIELDS = (
    "stream_id", "version", "position", "event_id", "aggregate_type", "event_type",
    "data", "metadata", "recorded_at", "prev_hash", "hash",
)


@dataclass(frozen=True)
class Problem:
    stream_id: str
    version: int | None
    message: str

    def __str__(self):
        where = self.stream_id if self.version is None else f"{self.stream_id} v{self.version}"
        return f"{where}: {self.message}"


@dataclass
class ChainReport:
    events_checked: int = 0
    streams_checked: int = 0
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    max_problems_kept: int = 100

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, stream_id: str, version: int | None, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < self.max_problems_kept:
            self.problems.append(Problem(stream_id, version, message))


@dataclass(frozen=True)
class _Head:
    stream_id: str
    version: int
    head_position: int
    head_hash: str


def count_events() -> int:
    return Event.objects.count()


def verify_event_chain(*, on_progress: Callable[[int], None] | None = None, max_problems: int = 100) -> ChainReport:
    """Check every event's hash, every link and every stream head; report each mismatch found."""
    report = ChainReport(max_problems_kept=max_problems)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        heads = _heads()
        head = next(heads, None)
        for stream_id, events in _streams():
            while head is not None and head.stream_id < stream_id:
                report.add(head.stream_id, None, f"recorded at v{head.version} but none of its events is left (stream deleted)")
                head = next(heads, None)
            matching_head = head if head is not None and head.stream_id == stream_id else None
            if matching_head is not None:
                head = next(heads, None)
            _verify_stream(stream_id, events, matching_head, report, on_progress)
        while head is not None:
            report.add(head.stream_id, None, f"recorded at v{head.version} but none of its events is left (stream deleted)")
            head = next(heads, None)
    return report


def _heads() -> Iterator[_Head]:
    rows = Stream.objects.order_by("stream_id").values_list("stream_id", "version", "head_position", "head_hash")
    return (_Head(*row) for row in rows.iterator(chunk_size=CHUNK_SIZE))


def _streams() -> Iterator[tuple[str, list[tuple]]]:
    """Events grouped by stream, one stream's rows at a time."""
    rows = Event.objects.order_by("stream_id", "version").values_list(*_EVENT_FIELDS).iterator(chunk_size=CHUNK_SIZE)
    current_id, current = None, []
    for row in rows:
        if row[0] != current_id and current:
            yield current_id, current
            current = []
        current_id = row[0]
        current.append(row)
    if current:
        yield current_id, current


def _verify_stream(stream_id, rows, head: _Head | None, report: ChainReport, on_progress) -> None:
    report.streams_checked += 1
    expected_version, expected_prev = 1, GENESIS_HASH
    for row in rows:
        (_, version, position, event_id, aggregate_type, event_type, data, metadata, recorded_at, prev_hash, stored_hash) = row
        if version != expected_version:
            report.add(stream_id, version, f"expected v{expected_version} here: events are missing or were renumbered")
        if prev_hash != expected_prev:
            report.add(stream_id, version, "does not link to the event before it (inserted, removed or reordered)")
        recomputed = event_hash(
            prev_hash=prev_hash, position=position, event_id=str(uuid.UUID(str(event_id))), stream_id=stream_id,
            aggregate_type=aggregate_type, version=version, event_type=event_type, data=data,
            metadata=metadata, recorded_at=recorded_at,
        )
        if recomputed != stored_hash:
            report.add(stream_id, version, "content does not match its hash (edited or moved)")
        expected_version, expected_prev = version + 1, stored_hash
    report.events_checked += len(rows)
    if on_progress is not None:
        on_progress(len(rows))
    _compare_head(stream_id, rows[-1], head, report)


def _compare_head(stream_id, last_row, head: _Head | None, report: ChainReport) -> None:
    last_version, last_position, last_hash = last_row[1], last_row[2], last_row[10]
    if head is None:
        report.add(stream_id, None, "has events but no recorded head (stream inserted behind the store's back)")
    elif head.version != last_version:
        report.add(stream_id, None, f"recorded head is v{head.version} but the events end at v{last_version}")
    elif head.head_hash != last_hash or head.head_position != last_position:
        report.add(stream_id, last_version, "newest event differs from the recorded head")
