"""Tamper evidence and the store's own consistency checks.

This is the full pass; `eventstore.integrity.incremental` checks only what is new since the last
verified point, with the per-stream checks defined here.

`verify_event_chain` re-checks every stream's SHA-256 chain, the recorded heads and the seals, and
that each stream's positions and times go forward with its versions, from positions the sequence
handed out. The scan walks events in (stream id, version) order through a server-side cursor, so
memory stays constant whatever the store's size, inside one read-only REPEATABLE READ transaction,
so appends made meanwhile cannot look like tampering. A clean scan records a new seal (see `Seal`),
and every scan a verification record, through SECURITY DEFINER functions (`eventstore/sql/`):
the database, not this code, stamps their times and chains the seals.

The `check_*` functions are what an operator runs after an incident (`manage.py check_consistency`,
which adds each app's own checks): contiguous versions, the chain, projections caught up.
"""

import bisect
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import psycopg
from django.db import IntegrityError, connection, transaction
from psycopg.pq import Format

from eventstore.encoding import (
    DIGEST_MODULUS,
    GENESIS_HASH,
    add_to_digest,
    canonical_json_of_texts,
    digest_text,
    event_hash,
    seal_hash,
)
from eventstore.integrity.models import ChainVerification, Seal
from eventstore.ledger import service as ledger
from eventstore.models import Event, Stream
from eventstore.projections.lag import wait_until_caught_up

CHUNK_SIZE = 5000
# Every event in (stream id, version) order: the event id as PostgreSQL prints a uuid, which is the
# canonical form the hash takes; data and metadata as stored jsonb texts, re-encoded here.
_SCAN = (
    "SELECT stream_id, version, position, event_id::text, aggregate_type, event_type, data::text, metadata::text,"
    " recorded_at, prev_hash, hash, transaction_id FROM eventstore_event ORDER BY stream_id, version"
)
# psycopg's own timestamptz loader (C in psycopg's binary build) in place of the pure-Python one
# Django registers on its connections; `timestamp_text` normalizes either to UTC.
_TIMESTAMPTZ_LOADER = psycopg.adapters.get_loader(psycopg.postgres.types["timestamptz"].oid, Format.TEXT)


@dataclass(frozen=True)
class Problem:
    subject: str  # a stream id, or the seal concerned
    version: int | None
    message: str

    def __str__(self):
        where = self.subject if self.version is None else f"{self.subject} v{self.version}"
        return f"{where}: {self.message}"


@dataclass
class ChainReport:
    events_checked: int = 0
    streams_checked: int = 0
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    max_problems_kept: int = 100
    seals_checked: int = 0
    new_seal: Seal | None = None
    # Which kind of pass, and the range it covered (see ChainVerification).
    kind: str = ChainVerification.FULL
    from_transaction: int | None = None
    transaction_horizon: int | None = None
    from_position: int | None = None
    last_position: int | None = None
    from_tree_size: int | None = None
    tree_size: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, subject: str, version: int | None, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < self.max_problems_kept:
            self.problems.append(Problem(subject, version, message))


@dataclass(frozen=True)
class HandedOut:
    """The positions the position sequence has handed out so far: first..last."""

    first: int
    last: int

    def __contains__(self, position: int) -> bool:
        return self.first <= position <= self.last


@dataclass(frozen=True)
class Head:
    stream_id: str
    version: int
    head_position: int
    head_hash: str


def count_events() -> int:
    return Event.objects.count()


class _SealCoverage:
    """Counts and digests events per seal, by the seal horizon their transaction id falls under."""

    def __init__(self, seals: list[Seal], horizon: int):
        self.horizons = [seal.transaction_horizon for seal in seals] + [horizon]
        self.counts = [0] * (len(self.horizons) + 1)
        self.digests = [0] * (len(self.horizons) + 1)

    def add(self, transaction_id: int, hash_hex: str) -> None:
        bucket = bisect.bisect_right(self.horizons, transaction_id)
        self.counts[bucket] += 1
        self.digests[bucket] = add_to_digest(self.digests[bucket], hash_hex)

    def covered(self, index: int) -> tuple[int, str]:
        """Count and digest of every event below horizon `index` (the seals', then the current one)."""
        digest = sum(self.digests[: index + 1]) % DIGEST_MODULUS
        return sum(self.counts[: index + 1]), digest_text(digest)


def verify_event_chain(
    *,
    on_progress: Callable[[int], None] | None = None,
    max_problems: int = 100,
    seal: bool = True,
    expected_seal: str | None = None,
    expected_heads: list[dict] | None = None,
    against_published: bool = False,
) -> ChainReport:
    """Check every event's hash, every link, every stream head and every seal; report each mismatch.

    `expected_seal` is a seal hash kept outside the database; it must still be in the chain of seals.
    `expected_heads` are signed tree heads kept outside the database: today's log must extend each
    (a consistency proof to the newest head), and the ledger's leaves, recomputed from today's
    events, must give each kept head's root and the newest head's, and its streams root. The stored
    streams tree, from which heads' streams roots are signed, must be the events' in any case.
    `against_published` adds every head published outside the database (`ledger.published_heads`), the
    last of which today's ledger must extend: a database restored from a backup older than it does not.
    When everything holds and `seal` is true, record a new seal covering what was checked.
    """
    report = ChainReport(max_problems_kept=max_problems)
    with transaction.atomic():
        horizon, handed_out = snapshot()
        report.transaction_horizon, report.last_position = horizon, handed_out.last
        seals = list(Seal.objects.order_by("id"))
        coverage = _SealCoverage(seals, horizon)
        _verify_streams(report, coverage, handed_out, on_progress)
        for problem in ledger.streams_tree_problems():
            report.add("ledger", None, problem)
    _verify_seals(seals, coverage, report)
    if expected_seal is not None and expected_seal not in {known.hash for known in seals}:
        report.add(
            "seals", None,
            f"the seal {expected_seal} kept outside the database is not in the chain of seals (history rewritten)",
        )
    if against_published:
        expected_heads = _with_published_heads(expected_heads, report)
    if expected_heads is not None:
        report.tree_size = _verify_kept_heads(expected_heads, report)
    if seal and report.ok:
        count, digest = coverage.covered(len(seals))
        report.new_seal = _record_seal(horizon, count, digest, report)
    record_run(report)
    return report


def snapshot() -> tuple[int, "HandedOut"]:
    """Start the run's read-only REPEATABLE READ snapshot (inside the caller's transaction): its
    horizon, below which every transaction had ended, and the positions handed out so far."""
    with connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        horizon = cursor.fetchone()[0]
        return horizon, _positions_handed_out(cursor)  # read after the snapshot: covers every event in it


def _positions_handed_out(cursor) -> HandedOut:
    """Sequence values are never rolled back, so `last_value`, read after the scan's snapshot was
    taken, is at least every position that snapshot holds."""
    cursor.execute(
        "SELECT seq.seqstart, seq.seqincrement, state.last_value, state.is_called"
        " FROM pg_sequence AS seq, eventstore_event_position_seq AS state"
        " WHERE seq.seqrelid = 'eventstore_event_position_seq'::regclass"
    )
    first, increment, last_value, is_called = cursor.fetchone()
    return HandedOut(first, last_value if is_called else last_value - increment)


def latest_verifications() -> dict[str, ChainVerification]:
    """The last run of each kind (full, incremental) that has run, in one query."""
    runs = ChainVerification.objects.order_by("kind", "-ran_at").distinct("kind")
    return {run.kind: run for run in runs}


def record_run(report: ChainReport) -> ChainVerification:
    """The run's outcome, kind and range, through `eventstore_record_verification`, which stamps the
    time and the newest seal itself."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT eventstore_record_verification(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [report.ok, report.events_checked, report.streams_checked, report.problem_count,
             "\n".join(str(problem) for problem in report.problems), report.kind, report.from_transaction,
             report.transaction_horizon, report.from_position, report.last_position, report.from_tree_size,
             report.tree_size],
        )
        return ChainVerification.objects.get(pk=cursor.fetchone()[0])


def _verify_streams(report: ChainReport, coverage: _SealCoverage, handed_out: HandedOut, on_progress) -> None:
    """Merge the events, grouped by stream, with the recorded heads; both come in stream id order."""
    heads = _heads()
    head = next(heads, None)
    for stream_id, events in _streams():
        while head is not None and head.stream_id < stream_id:
            _report_deleted_stream(head, report)
            head = next(heads, None)
        matching_head = head if head is not None and head.stream_id == stream_id else None
        if matching_head is not None:
            head = next(heads, None)
        verify_stream(stream_id, events, matching_head, report, coverage, handed_out)
        if on_progress is not None:
            on_progress(len(events))
    while head is not None:
        _report_deleted_stream(head, report)
        head = next(heads, None)


def _report_deleted_stream(head: Head, report: ChainReport) -> None:
    report.add(head.stream_id, None, f"recorded at v{head.version} but none of its events is left (stream deleted)")


def _heads() -> Iterator[Head]:
    rows = Stream.objects.order_by("stream_id").values_list("stream_id", "version", "head_position", "head_hash")
    return (Head(*row) for row in rows.iterator(chunk_size=CHUNK_SIZE))


def _streams() -> Iterator[tuple[str, list[tuple]]]:
    """Events grouped by stream, one stream's rows at a time."""
    current_id, current = None, []
    for row in event_rows():
        if row[0] != current_id and current:
            yield current_id, current
            current = []
        current_id = row[0]
        current.append(row)
    if current:
        yield current_id, current


def event_rows(query: str = _SCAN, params: list | None = None) -> Iterator[tuple]:
    """The scan's rows through a server-side cursor, a chunk at a time, with data and metadata in
    canonical JSON: each chunk's texts parsed and encoded at once (`canonical_json_of_texts`)."""
    with connection.chunked_cursor() as cursor:
        cursor.cursor.adapters.register_loader("timestamptz", _TIMESTAMPTZ_LOADER)
        cursor.execute(query, params)
        while chunk := cursor.fetchmany(CHUNK_SIZE):
            payloads = iter(canonical_json_of_texts([text for row in chunk for text in (row[6], row[7])]))
            for row, data_json, metadata_json in zip(chunk, payloads, payloads):
                yield (*row[:6], data_json, metadata_json, *row[8:])


def verify_stream(
    stream_id, rows, head: Head | None, report: ChainReport, coverage: _SealCoverage | None, handed_out: HandedOut,
    before: tuple | None = None, start: tuple[int, str] | None = None,
) -> None:
    """Check `rows`, a stream's events in version order: from its first event, or (an incremental
    pass) from `before`, the event verified earlier that the first row links to, or from `start`, the
    version and link the first row must have."""
    report.streams_checked += 1
    expected_version, expected_prev = (1, GENESIS_HASH) if before is None else (before[1] + 1, before[10])
    if start is not None:
        expected_version, expected_prev = start
    for row in rows:
        version, prev_hash, stored_hash, transaction_id = row[1], row[9], row[10], row[11]
        if coverage is not None:
            coverage.add(transaction_id, stored_hash)
        if version != expected_version:
            report.add(stream_id, version, f"expected v{expected_version} here: events are missing or were renumbered")
        if prev_hash != expected_prev:
            report.add(stream_id, version, "does not link to the event before it (inserted, removed or reordered)")
        _check_order(stream_id, row, before, handed_out, report)
        check_hash(stream_id, row, report)
        expected_version, expected_prev, before = version + 1, stored_hash, row
    report.events_checked += len(rows)
    _compare_head(stream_id, rows[-1], head, report)


def check_hash(stream_id: str, row: tuple, report: ChainReport) -> None:
    (_, version, position, event_id, aggregate_type, event_type, data_json, metadata_json, recorded_at, prev_hash,
     stored_hash, _) = row
    recomputed = event_hash(
        prev_hash=prev_hash, position=position, event_id=event_id, stream_id=stream_id,
        aggregate_type=aggregate_type, version=version, event_type=event_type, data_json=data_json,
        metadata_json=metadata_json, recorded_at=recorded_at,
    )
    if recomputed != stored_hash:
        report.add(stream_id, version, "content does not match its hash (edited or moved)")


def _check_order(stream_id, row, before, handed_out: HandedOut, report: ChainReport) -> None:
    """The append numbers and stamps each stream's events under its lock, from the position sequence
    and the server's clock: positions grow and times never go back as versions grow."""
    version, position, recorded_at = row[1], row[2], row[8]
    if position not in handed_out:
        report.add(stream_id, version, f"position {position} was never handed out by the position sequence "
                                       f"(it has handed out {handed_out.first}..{handed_out.last})")
    if before is None:
        return
    before_version, before_position, before_recorded_at = before[1], before[2], before[8]
    if position <= before_position:
        report.add(stream_id, version, f"position {position} is not after v{before_version}'s ({before_position}): "
                                       "positions are handed out in version order")
    if recorded_at < before_recorded_at:
        report.add(stream_id, version, f"recorded at {recorded_at.isoformat()}, before v{before_version} "
                                       f"({before_recorded_at.isoformat()}): times never go back within a stream")


def _compare_head(stream_id, last_row, head: Head | None, report: ChainReport) -> None:
    last_version, last_position, last_hash = last_row[1], last_row[2], last_row[10]
    if head is None:
        report.add(stream_id, None, "has events but no recorded head (stream inserted behind the store's back)")
    elif head.version != last_version:
        report.add(stream_id, None, f"recorded head is v{head.version} but the events end at v{last_version}")
    elif head.head_hash != last_hash or head.head_position != last_position:
        report.add(stream_id, last_version, "newest event differs from the recorded head")


def _verify_seals(seals: list[Seal], coverage: _SealCoverage, report: ChainReport) -> None:
    prev_hash = GENESIS_HASH
    for index, seal in enumerate(seals):
        report.seals_checked += 1
        where = f"seal #{seal.pk} of {seal.sealed_at:%Y-%m-%d %H:%M:%S}"
        recomputed = seal_hash(
            prev_hash=seal.prev_hash, sealed_at=seal.sealed_at, transaction_horizon=seal.transaction_horizon,
            event_count=seal.event_count, events_digest=seal.events_digest,
        )
        if seal.prev_hash != prev_hash or recomputed != seal.hash:
            report.add(where, None, "the chain of seals is broken (a seal was edited, removed or inserted)")
        count, digest = coverage.covered(index)
        if count != seal.event_count:
            report.add(where, None, f"it covered {seal.event_count} events; {count} of them are left")
        elif digest != seal.events_digest:
            report.add(where, None, "the events it covered have changed")
        prev_hash = seal.hash


def _record_seal(horizon: int, count: int, digest: str, report: ChainReport) -> Seal | None:
    """Append a seal after the newest one; None when there is nothing new or another run sealed first.

    `eventstore_record_seal` stamps the time, links to the newest seal and computes the hash (as
    `encoding.seal_hash` does, which `_verify_seals` recomputes), and checks the count against the
    store: a refusal is a problem of this run."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT eventstore_record_seal(%s, %s, %s)", [horizon, count, digest])
            seal_id = cursor.fetchone()[0]
    except IntegrityError as refused:
        report.add("seals", None, f"the database refused the new seal: {str(refused).splitlines()[0]}")
        return None
    return None if seal_id is None else Seal.objects.get(pk=seal_id)


def _with_published_heads(expected_heads: list[dict] | None, report: ChainReport) -> list[dict] | None:
    """The kept heads given and the published ones; reports a ledger that does not extend the last
    published head (a rollback) or published heads that cannot be read."""
    for problem in ledger.rollback_problems():
        report.add("ledger", None, problem)
    try:
        published = ledger.published_heads()
    except ledger.PublishedHeadsUnreadable:
        published = []  # rollback_problems reported it
    return (expected_heads or []) + published or None


def _verify_kept_heads(kept_heads: list[dict], report: ChainReport) -> int | None:
    """Returns the size of the newest head, whose root was recomputed from the events (None: no head)."""
    for kept in kept_heads:
        for problem in ledger.check_extends(kept):
            report.add("ledger", None, problem)
    latest = ledger.latest_head()
    roots = {int(kept["tree_size"]): kept.get("root_hash") for kept in kept_heads if "tree_size" in kept}
    if latest is not None:
        roots.setdefault(latest.tree_size, latest.root_hash)
    for size, recomputed in ledger.roots_from_events(sorted(roots), on_missing=lambda problem: report.add(
            "ledger", None, problem)).items():
        if recomputed.hex() != roots[size]:
            report.add("ledger", None, f"the events of today's first {size} leaves do not give the root of the "
                                       "signed head of that size (events altered, removed or reordered)")
    if latest is not None and ledger.streams_tree(ledger.streams_at(
            latest.tree_size, latest.streams_order)).root().hex() != latest.streams_root:
        report.add("ledger", None, f"the events of today's first {latest.tree_size} leaves do not give the streams "
                                   "root of the newest signed head (events altered or removed)")
    return None if latest is None else latest.tree_size


# Consistency checks -------------------------------------------------------------------------------

@dataclass
class Check:
    """One named check of a consistency run: its problems (the first `limit` of them) and figures."""

    name: str
    problems: list[str] = field(default_factory=list)
    figures: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: str, *, limit: int = 50) -> None:
        if len(self.problems) < limit:
            self.problems.append(problem)
        self.figures["problems"] = self.figures.get("problems", 0) + 1


def check_streams() -> Check:
    check = Check("every stream's versions are contiguous")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT stream_id, count(*), min(version), max(version), count(DISTINCT version)"
            " FROM eventstore_event GROUP BY stream_id"
            " HAVING min(version) <> 1 OR max(version) <> count(*) OR count(DISTINCT version) <> count(*)"
        )
        for stream_id, count, lowest, highest, distinct in cursor.fetchall():
            check.add(f"{stream_id}: {count} events, versions {lowest}..{highest}, {distinct} distinct")
        cursor.execute("SELECT count(DISTINCT stream_id) FROM eventstore_event")
        check.figures["streams"] = cursor.fetchone()[0]
    return check


def check_chain() -> Check:
    check = Check("verify_event_chain passes")
    report = verify_event_chain()
    for problem in report.problems:
        check.add(str(problem))
    check.figures["events"] = report.events_checked
    return check


def check_projections_caught_up(timeout: float) -> Check:
    """Wait until every projection is caught up (the worker's catch-up loop applies them)."""
    check = Check("projections catch up (lag back to zero)")
    started = time.monotonic()
    behind = wait_until_caught_up(timeout)
    if behind:
        check.add(f"still behind after {timeout:.0f}s: {behind}")
    else:
        check.figures["seconds_to_zero_lag"] = round(time.monotonic() - started, 1)
    return check
