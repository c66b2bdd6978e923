"""The incremental pass of verify_event_chain: what was appended since the last verified point, in
time proportional to it.

The last verified point is the newest clean run's snapshot (full or incremental): its transaction
horizon, below which every transaction had ended, and the last position handed out. The new range is
every event whose transaction id is at or above that horizon, or whose position is beyond that
position (so a row slipped in with an old transaction id but a new position is in it too). In each
stream the new range is a run of its newest versions, checked as the full pass checks a stream
(hashes, links, versions without gaps, positions handed out and growing, times not going back) from
the event verified before it, whose own hash is recomputed too: the link into the verified past holds.
The recorded heads of the streams it touches, and every head beyond that position, must end where the
events end. In the ledger, the leaves from the last verified signed head to the newest one are
recomputed from their events and extend the stored tree of the verified head to the newest head's
root (with its signature and the consistency proof between the two checked as well).

What an incremental pass does not look at, the events before its range (but the one each stream
links to), the full pass does (`verification.verify_event_chain`), on a schedule of its own; the
README's "What each verification guarantees" says which catches what.
"""

from typing import Callable

from django.db import connection, transaction

from eventstore.encoding import seal_hash
from eventstore.integrity.models import ChainVerification, Seal
from eventstore.integrity.verification import (
    ChainReport,
    HandedOut,
    Head,
    check_hash,
    event_rows,
    record_run,
    snapshot,
    verify_event_chain,
    verify_stream,
)
from eventstore.ledger import merkle
from eventstore.ledger import service as ledger
from eventstore.ledger import verifier as ledger_verifier
from eventstore.ledger.models import TreeHead

_COLUMNS = ("event.stream_id, event.version, event.position, event.event_id::text, event.aggregate_type,"
            " event.event_type, event.data::text, event.metadata::text, event.recorded_at, event.prev_hash,"
            " event.hash, event.transaction_id")
_NEW_EVENTS = (f"SELECT {_COLUMNS} FROM eventstore_event AS event"
               " WHERE event.transaction_id >= %s OR event.position > %s ORDER BY event.stream_id, event.version")
_EVENTS_BEFORE = (f"SELECT {_COLUMNS} FROM unnest(%s::text[], %s::integer[]) AS wanted(stream_id, version)"
                  " JOIN eventstore_event AS event"
                  " ON event.stream_id = wanted.stream_id COLLATE \"C\" AND event.version = wanted.version")
_HEADS = ("SELECT stream_id, version, head_position, head_hash FROM eventstore_stream"
          " WHERE stream_id = ANY(%s::text[] COLLATE \"C\") OR head_position > %s")


def last_verified_point() -> ChainVerification | None:
    """The newest clean run with a recorded snapshot: where the next incremental pass starts."""
    return (ChainVerification.objects.filter(ok=True, transaction_horizon__isnull=False)
            .order_by("-transaction_horizon", "-id").first())


def verify_new_events(
    *,
    on_progress: Callable[[int], None] | None = None,
    max_problems: int = 100,
    expected_seal: str | None = None,
    against_published: bool = False,
) -> ChainReport:
    """Check what was appended since the last verified point and record the run; a full pass (sealing
    when clean) when no run has verified anything yet."""
    since = last_verified_point()
    if since is None:
        return verify_event_chain(on_progress=on_progress, max_problems=max_problems, expected_seal=expected_seal,
                                  against_published=against_published)
    report = ChainReport(max_problems_kept=max_problems, kind=ChainVerification.INCREMENTAL,
                         from_transaction=since.transaction_horizon, from_position=since.last_position)
    with transaction.atomic():
        horizon, handed_out = snapshot()
        _plan_for_every_row()
        report.transaction_horizon = max(horizon, since.transaction_horizon)
        report.last_position = handed_out.last
        _verify_new_streams(report, handed_out, on_progress)
    _verify_seals_since(since, expected_seal, report)
    if against_published:
        for problem in ledger.rollback_problems():
            report.add("ledger", None, problem)
    report.from_tree_size = _verified_tree_size()
    report.tree_size = _verify_new_leaves(report.from_tree_size or 0, report)
    record_run(report)
    return report


def _plan_for_every_row() -> None:
    """The pass reads every row its server-side cursors select, so the planner should cost all of
    them, not the first tenth it assumes for a cursor: with the default, a new range it overestimates
    (statistics not yet analyzed after the appends) is read in stream order through the
    (stream_id, version) index, every event filtered on the way (2 s at 5,000,000 events instead of 30 ms)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL cursor_tuple_fraction = 1")


def _verify_new_streams(report: ChainReport, handed_out: HandedOut, on_progress) -> None:
    streams = _new_streams(report.from_transaction, report.from_position or 0)
    before = _events_before(streams)
    heads = _heads(list(streams), report.from_position or 0)
    for stream_id, rows in streams.items():
        first_version = rows[0][1]
        linked = before.get(stream_id)
        start = None
        if first_version > 1 and linked is None:
            report.add(stream_id, first_version - 1, "the verified event the new ones link to is gone")
            start = (first_version, rows[0][9])  # reported once here, not again as a gap and a broken link
        if linked is not None:
            check_hash(stream_id, linked, report)
        verify_stream(stream_id, rows, heads.pop(stream_id, None), report, None, handed_out, before=linked,
                       start=start)
        if on_progress is not None:
            on_progress(len(rows))
    for head in heads.values():  # beyond the verified point, yet no new event of its stream is left
        report.add(head.stream_id, None, f"recorded at v{head.version} (position {head.head_position}, after the "
                                         "last verified point) but that event is gone")


def _new_streams(from_transaction: int, from_position: int) -> dict[str, list[tuple]]:
    streams: dict[str, list[tuple]] = {}
    for row in event_rows(_NEW_EVENTS, [from_transaction, from_position]):
        streams.setdefault(row[0], []).append(row)
    return streams


def _events_before(streams: dict[str, list[tuple]]) -> dict[str, tuple]:
    """Each stream's event just before its new ones, verified by an earlier run."""
    wanted = {stream_id: rows[0][1] - 1 for stream_id, rows in streams.items() if rows[0][1] > 1}
    if not wanted:
        return {}
    return {row[0]: row for row in event_rows(_EVENTS_BEFORE, [list(wanted), list(wanted.values())])}


def _heads(stream_ids: list[str], from_position: int) -> dict[str, Head]:
    with connection.cursor() as cursor:
        cursor.execute(_HEADS, [stream_ids, from_position])
        return {row[0]: Head(*row) for row in cursor.fetchall()}


def _verify_seals_since(since: ChainVerification, expected_seal: str | None, report: ChainReport) -> None:
    """The seal the last verified run saw as the newest must still be there, and the newest seal must
    hash right and link to the one before it (the full pass re-checks the whole chain and what each
    seal covers)."""
    newest_two = list(Seal.objects.order_by("-id")[:2])
    hashes = {seal.hash for seal in newest_two}
    if since.seal_hash and since.seal_hash not in hashes and not Seal.objects.filter(hash=since.seal_hash).exists():
        report.add("seals", None, f"the seal {since.seal_hash} the last verification saw is gone (history rewritten)")
    if expected_seal is not None and expected_seal not in hashes and not Seal.objects.filter(
            hash=expected_seal).exists():
        report.add("seals", None,
                   f"the seal {expected_seal} kept outside the database is not in the chain of seals (history rewritten)")
    if newest_two:
        newest, linked = newest_two[0], newest_two[1].hash if len(newest_two) > 1 else None
        report.seals_checked += 1
        recomputed = seal_hash(prev_hash=newest.prev_hash, sealed_at=newest.sealed_at,
                               transaction_horizon=newest.transaction_horizon, event_count=newest.event_count,
                               events_digest=newest.events_digest)
        if recomputed != newest.hash or (linked is not None and newest.prev_hash != linked):
            report.add(f"seal #{newest.pk} of {newest.sealed_at:%Y-%m-%d %H:%M:%S}", None,
                       "the chain of seals is broken (a seal was edited, removed or inserted)")


def _verified_tree_size() -> int | None:
    """The largest signed head a clean run verified the ledger up to."""
    verified = ChainVerification.objects.filter(ok=True, tree_size__isnull=False).order_by("-tree_size").first()
    return None if verified is None else verified.tree_size


def _verify_new_leaves(start: int, report: ChainReport) -> int | None:
    """Recompute the ledger's leaves from the verified head's size to the newest head's from their
    events, on top of the stored subtrees of the verified head (which must give its root): the newest
    head's root must come out. Returns the newest head's size (None: no head is signed)."""
    latest = ledger.latest_head()
    if latest is None:
        return None
    if latest.tree_size < start:
        report.add("ledger", None, f"the newest signed head has {latest.tree_size} leaves, fewer than the {start} "
                                   "verified before (the log lost events)")
        return None
    if not ledger_verifier.signature_ok(ledger.head_document(latest), latest.public_key):
        report.add("ledger", None, f"the newest head, of {latest.tree_size} events, is not signed by its key")
    compact = _compact_range_of_verified_head(start, latest, report)
    _append_leaves_of_events(compact, start, latest.tree_size, report)
    if compact.root().hex() != latest.root_hash:
        report.add("ledger", None, f"the events of leaves {start}..{latest.tree_size} do not give the root of the "
                                   "newest signed head (events altered, removed or reordered)")
    return latest.tree_size


def _compact_range_of_verified_head(start: int, latest: TreeHead, report: ChainReport) -> merkle.CompactRange:
    keys = merkle.perfect_subtrees(0, start)
    nodes = ledger.fetch_nodes(set(keys))
    compact = merkle.CompactRange.of_subtrees(start, [nodes.get(key, b"\0" * 32) for key in keys])
    if start == 0:
        return compact
    verified = TreeHead.objects.filter(tree_size=start).first()
    if verified is None:
        report.add("ledger", None, f"the signed head of {start} events, verified before, is gone")
    elif compact.root().hex() != verified.root_hash:
        report.add("ledger", None, f"the stored tree no longer has, at {start} leaves, the root of the head verified "
                                   "then (history rewritten)")
    elif not ledger_verifier.verify_consistency(
            start, latest.tree_size, bytes.fromhex(verified.root_hash), bytes.fromhex(latest.root_hash),
            ledger.consistency_proof(start, latest.tree_size)):
        report.add("ledger", None, f"the newest head of {latest.tree_size} does not extend the head of {start} "
                                   "verified before (history rewritten)")
    return compact


def _append_leaves_of_events(compact: merkle.CompactRange, start: int, end: int, report: ChainReport) -> None:
    """Each leaf in [start, end) from its event's hash, in commit order, and no event left out between."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT entry.ledger_index, entry.position, entry.transaction_id, event.hash"
            " FROM eventstore_ledgerentry AS entry LEFT JOIN eventstore_event AS event ON event.position = entry.position"
            " WHERE entry.ledger_index >= %s AND entry.ledger_index < %s ORDER BY entry.ledger_index", [start, end])
        entries = cursor.fetchall()
        for index, position, _, event_hash in entries:
            if event_hash is None:
                report.add("ledger", None, f"ledger leaf {index}: its event at position {position} is gone")
            compact.append(merkle.leaf_hash(bytes.fromhex(event_hash or "00" * 32)))
        if len(entries) < 2:
            return
        (_, first_position, first_transaction, _), (_, last_position, last_transaction, _) = entries[0], entries[-1]
        cursor.execute(
            "SELECT count(*) FROM eventstore_event AS event"
            " WHERE (event.transaction_id, event.position) > (%s, %s) AND (event.transaction_id, event.position) < (%s, %s)"
            " AND NOT EXISTS (SELECT FROM eventstore_ledgerentry AS entry WHERE entry.position = event.position)",
            [first_transaction, first_position, last_transaction, last_position])
        unledgered = cursor.fetchone()[0]
    if unledgered:
        report.add("ledger", None, f"{unledgered} events lie between ledger leaves {start} and {end - 1} in commit "
                                   "order but are not in the ledger (inserted behind its back)")
