"""The verifiable ledger: every event a leaf of one Merkle tree, in commit order, and signed heads.

`extend_ledger` gives indexes to the events `read_all` has made visible, through
`eventstore_ledger_extend` (eventstore/sql/), which stores the leaves and perfect subtrees; roots and
proofs (`eventstore.ledger.merkle`) read O(log n) stored nodes. `sign_tree_head` signs the ledger's root at
its size with the streams' root beside it and records the head through `eventstore_record_tree_head`,
which checks the root against the stored tree.

`streams_root` is the root of a second tree of the same hashing over every stream's newest entry at
the head's size, (stream id, version, head hash): a leaf's data is the compact, key-sorted JSON
`{"head_hash":…,"stream_id":…,"version":…}` (UTF-8). A stream's newest events, or a whole stream,
cannot vanish without changing it. Its leaves are in the order streams first entered the ledger (the
order of each stream's first leaf), so a stream keeps its place and the tree at a head is the streams
seen so far; heads signed before that order came have their streams in stream id order, which
`TreeHead.streams_order` records and the audit bundle follows. `eventstore_ledger_extend` keeps each
stream's leaf (`LedgerStream`) and the perfect subtrees above the leaves it moves
(`LedgerStreamNode`), so signing folds the root from O(log n) stored subtrees, whatever the number of
streams, and reads no event; `streams_at` recomputes the entries from the events themselves (the audit
bundle, and the full verification, which compares the newest head's streams root with them).
"""

import logging
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Callable, Iterable, Iterator

from django.conf import settings
from django.db import connection, transaction

from eventstore.encoding import canonical_json, timestamp_text
from eventstore.ledger import keys, merkle
from eventstore.ledger import verifier as ledger_verifier
from eventstore.ledger.models import LedgerEntry, PublishedHead, TreeHead
from eventstore.ledger.signing import head_message, public_key_hex, signing_key

EXTEND_BATCH = 5000
PUBLISHED_FILE = "heads.jsonl"

logger = logging.getLogger(__name__)


class LedgerError(Exception):
    """A request the ledger cannot answer (a size beyond it, first > second, an unknown event)."""


def extend_ledger(*, batch: int = EXTEND_BATCH) -> int:
    """Give ledger indexes to every event visible to `read_all` that has none yet; the new size.
    One transaction per batch, so a large backlog never holds the sequencer's lock for long."""
    size = ledger_size()
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT eventstore_ledger_extend(%s)", [batch])
            new_size = cursor.fetchone()[0]
        if new_size - size < batch:
            return new_size
        size = new_size


def ledger_size() -> int:
    last = LedgerEntry.objects.order_by("-ledger_index").values_list("ledger_index", flat=True).first()
    return 0 if last is None else last + 1


def root_at(tree_size: int) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute("SELECT eventstore_ledger_root(%s)", [tree_size])
        return bytes(cursor.fetchone()[0])


def fetch_nodes(keys: set[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    """Stored perfect subtrees, in one query."""
    return _nodes_by_key(
        "SELECT node.level, node.index, node.hash FROM eventstore_ledgernode AS node"
        " JOIN unnest(%s::smallint[], %s::bigint[]) AS wanted(level, index)"
        " ON node.level = wanted.level AND node.index = wanted.index", keys)


def _nodes_by_key(sql: str, keys: set[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    """The hashes `sql` finds for `keys`, passed as two arrays (levels, indexes); a key it finds no
    hash for is left out."""
    if not keys:
        return {}
    levels, indexes = zip(*keys)
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(levels), list(indexes)])
        return {(level, index): bytes(hash_) for level, index, hash_ in cursor.fetchall() if hash_ is not None}


def inclusion_proofs(indexes: Iterable[int], tree_size: int) -> dict[int, list[bytes]]:
    """Audit paths (leaf up) of many leaves in a tree of `tree_size`, with one read of the nodes."""
    ranges = {index: merkle.inclusion_ranges(index, tree_size) for index in indexes}
    nodes = fetch_nodes(merkle.needed_nodes(r for path in ranges.values() for r in path))
    return {index: [merkle.range_hash(start, end, nodes) for start, end in path] for index, path in ranges.items()}


def consistency_proof(first: int, second: int) -> list[bytes]:
    return merkle.resolve(merkle.consistency_ranges(first, second), fetch_nodes)


def roots_from_events(sizes: list[int], *, on_missing: Callable[[str], None]) -> dict[int, bytes]:
    """The ledger's roots at `sizes`, recomputed from today's events (not the stored nodes), reporting
    each leaf whose event is gone and each event that is not where its commit order puts it."""
    wanted, roots, compact = set(sizes), {}, merkle.CompactRange()
    if not wanted:
        return roots
    with connection.chunked_cursor() as cursor:
        cursor.execute(
            "SELECT entry.ledger_index, entry.position, event.hash FROM eventstore_ledgerentry AS entry"
            " LEFT JOIN eventstore_event AS event ON event.position = entry.position"
            " WHERE entry.ledger_index < %s ORDER BY entry.ledger_index", [max(wanted)],
        )
        for index, position, event_hash in cursor:
            if event_hash is None:
                on_missing(f"ledger leaf {index}: its event at position {position} is gone")
            compact.append(merkle.leaf_hash(bytes.fromhex(event_hash or "00" * 32)))
            if compact.size in wanted:
                roots[compact.size] = compact.root()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM eventstore_event AS event WHERE NOT EXISTS (SELECT FROM eventstore_ledgerentry"
            " AS entry WHERE entry.position = event.position) AND (event.transaction_id, event.position) < (SELECT"
            " last.transaction_id, last.position FROM eventstore_ledgerentry AS last ORDER BY last.ledger_index DESC"
            " LIMIT 1)")
        unledgered = cursor.fetchone()[0]
    if unledgered:
        on_missing(f"{unledgered} events precede the ledger's newest leaf in commit order but are not in the "
                   "ledger (inserted behind its back)")
    return roots


# Streams -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StreamEntry:
    stream_id: str
    version: int
    head_hash: str

    def leaf_data(self) -> bytes:
        return canonical_json({"head_hash": self.head_hash, "stream_id": self.stream_id,
                               "version": self.version}).encode()


def streams_at(tree_size: int, order: str = TreeHead.FIRST_IN_LEDGER_ORDER) -> Iterator[StreamEntry]:
    """Each stream's newest event among the first `tree_size` leaves, in the order of a head's streams
    tree: by each stream's first leaf in the ledger, or (heads signed before that) by stream id."""
    sort = "newest.first_leaf" if order == TreeHead.FIRST_IN_LEDGER_ORDER else "newest.stream_id"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT newest.stream_id, newest.version, newest.hash FROM (SELECT DISTINCT ON (event.stream_id)"
            " event.stream_id, event.version, event.hash,"
            " min(entry.ledger_index) OVER (PARTITION BY event.stream_id) AS first_leaf"
            " FROM eventstore_ledgerentry AS entry JOIN eventstore_event AS event ON event.position = entry.position"
            " WHERE entry.ledger_index < %s ORDER BY event.stream_id, event.version DESC) AS newest"
            f" ORDER BY {sort}",
            [tree_size],
        )
        for row in cursor.fetchall():
            yield StreamEntry(*row)


def streams_tree(entries: Iterable[StreamEntry]) -> merkle.MemoryTree:
    return merkle.MemoryTree([merkle.leaf_hash(entry.leaf_data()) for entry in entries])


def stored_streams_root() -> tuple[int, bytes]:
    """The ledger's size and the streams root at that size, folded from the stored perfect subtrees of
    the streams tree (O(log n), in one query); read under the ledger's lock, so that no extension
    moves the one without the other."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended('eventstore_ledger', 0))")
        size = ledger_size()
        cursor.execute("SELECT COALESCE(max(leaf_index) + 1, 0) FROM eventstore_ledgerstream")
        stream_count = cursor.fetchone()[0]
        peaks = fetch_streams_nodes(set(merkle.perfect_subtrees(0, stream_count)))
    try:
        return size, merkle.range_hash(0, stream_count, peaks)
    except KeyError as missing:
        raise LedgerError(f"the streams tree of {stream_count} streams has no stored subtree {missing}") from None


def fetch_streams_nodes(keys: set[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    """Stored perfect subtrees of the streams tree (level 0: the streams' leaves), in one query."""
    return _nodes_by_key(
        "SELECT wanted.level, wanted.index, COALESCE(node.hash, stream.leaf_hash)"
        " FROM unnest(%s::smallint[], %s::bigint[]) AS wanted(level, index)"
        " LEFT JOIN eventstore_ledgerstreamnode AS node ON wanted.level > 0 AND node.level = wanted.level"
        "  AND node.index = wanted.index"
        " LEFT JOIN eventstore_ledgerstream AS stream ON wanted.level = 0 AND stream.leaf_index = wanted.index",
        keys)


def streams_tree_problems(*, limit: int = 20) -> list[str]:
    """What differs between the stored streams tree (each stream's leaf and place, every stored
    subtree) and the tree recomputed from the events at the ledger's size: an altered row there would
    make the next signed streams root wrong. Empty: they agree. Reads every stream and leaf, in the
    caller's REPEATABLE READ snapshot (the full verification's), so that both sides are of one size."""
    size = ledger_size()
    entries = list(streams_at(size))
    tree = streams_tree(entries)
    expected = ((level, index, entries[index].stream_id if level == 0 else None, hash_)
                for level, hashes in enumerate(tree.levels) for index, hash_ in enumerate(hashes))
    problems = []
    with connection.chunked_cursor() as cursor:
        cursor.execute("SELECT 0, leaf_index, stream_id, leaf_hash FROM eventstore_ledgerstream UNION ALL"
                       " SELECT level, index, NULL, hash FROM eventstore_ledgerstreamnode ORDER BY 1, 2")
        stored = ((level, index, stream_id, bytes(hash_)) for level, index, stream_id, hash_ in cursor)
        for key in _differing_keys(stored, expected):
            problems.append(f"the streams tree's {'leaf' if key[0] == 0 else f'level {key[0]} subtree'} {key[1]} is "
                            f"not what the events of its {size} leaves give (altered, missing or out of place)")
            if len(problems) == limit:
                break
    return problems


def _differing_keys(stored: Iterator[tuple], expected: Iterator[tuple]) -> Iterator[merkle.NodeKey]:
    """The (level, index) of each row of two sequences sorted by them that is in one only or differs."""
    mine, theirs = next(stored, None), next(expected, None)
    while mine is not None or theirs is not None:
        if theirs is None or (mine is not None and mine[:2] < theirs[:2]):
            yield mine[:2]
            mine = next(stored, None)
        elif mine is None or theirs[:2] < mine[:2]:
            yield theirs[:2]
            theirs = next(expected, None)
        else:
            if mine != theirs:
                yield mine[:2]
            mine, theirs = next(stored, None), next(expected, None)


# Heads ---------------------------------------------------------------------------------------------

def latest_head() -> TreeHead | None:
    return TreeHead.objects.order_by("-tree_size").first()


def sign_tree_head() -> TreeHead | None:
    """Extend the ledger and sign its root at the new size; None when no event is new since the newest
    head (or another signer recorded a newer head meanwhile). Raises RollbackDetected, signing nothing,
    when the ledger does not extend the last head published outside the database."""
    key = signing_key()
    keys.check_may_sign(key)
    extend_ledger()
    size, streams = stored_streams_root()
    refuse_to_fork(size)
    latest = latest_head()
    if size == 0 or (latest is not None and latest.tree_size >= size):
        return None
    timestamp = datetime.now(UTC)
    root_hash = root_at(size).hex()
    streams_root = streams.hex()
    signature = key.sign(head_message(tree_size=size, timestamp=timestamp, root_hash=root_hash,
                                      streams_root=streams_root)).hex()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT eventstore_record_tree_head(%s, %s, %s, %s, %s, %s)",
            [size, timestamp, root_hash, streams_root, signature, public_key_hex(key)],
        )
        recorded = cursor.fetchone()[0]
    return None if recorded is None else TreeHead.objects.get(tree_size=recorded)


def head_document(head: TreeHead) -> dict:
    """A head as the API, the published files and the audit bundle carry it."""
    return {
        "tree_size": head.tree_size,
        "timestamp": timestamp_text(head.timestamp),
        "root_hash": head.root_hash,
        "streams_root": head.streams_root,
        "signature": head.signature,
        "public_key": head.public_key,
        "key_id": head.key_id,
    }


# Keeping heads outside -----------------------------------------------------------------------------

class PublishFailed(Exception):
    """No head to publish, or the destination refused it."""


def publish_latest_head(destination: str, *, timeout: float = 10) -> dict:
    """Append the newest head to DIR/heads.jsonl, or POST it as JSON to a URL; record that it was."""
    head = latest_head()
    if head is None:
        raise PublishFailed("no tree head is signed yet: run `manage.py sign_tree_head` first")
    document = head_document(head)
    line = canonical_json(document)
    if destination.startswith(("http://", "https://")):
        request = urllib.request.Request(destination, data=line.encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout):
                pass
        except (OSError, ValueError) as error:
            raise PublishFailed(f"the witness at {destination} did not take the head: {error}") from None
    else:
        directory = Path(destination)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            with open(directory / PUBLISHED_FILE, "a", encoding="utf-8") as kept:
                kept.write(line + "\n")
        except OSError as error:
            raise PublishFailed(f"cannot write to {directory}: {error}") from None
    PublishedHead.objects.create(tree_size=head.tree_size, document=document, destination=destination)
    return document


def check_extends(kept: dict) -> list[str]:
    """What is wrong with today's ledger as an extension of a head kept outside the database: its
    signature, and the consistency proof from it to the newest signed head (empty: all is well)."""
    latest = latest_head()
    try:
        size, root = int(kept["tree_size"]), bytes.fromhex(kept["root_hash"])
        signed = ledger_verifier.signature_ok(kept, kept["public_key"])
    except (KeyError, TypeError, ValueError):
        return ["the kept head is not a head document"]
    where = f"the kept head of {size} events"
    if not signed:
        return [f"{where}: its signature does not verify"]
    if latest is None:
        return [f"{where}: no head is signed today"]
    period = keys.key_of_size(keys.key_periods(), size)
    if period is None or period.public_key != kept["public_key"]:
        return [f"{where}: it is not signed by the key that signs heads of its size"]
    if size > latest.tree_size:
        return [f"{where}: the log's newest head has only {latest.tree_size} (the log lost events)"]
    if root_at(size) != root:
        return [f"{where}: the ledger's tree no longer has its root at that size (history rewritten)"]
    proof = consistency_proof(size, latest.tree_size)
    if not ledger_verifier.verify_consistency(size, latest.tree_size, root, bytes.fromhex(latest.root_hash), proof):
        return [f"{where}: the newest head of {latest.tree_size} does not extend it (history rewritten)"]
    return []


@dataclass(frozen=True)
class LedgerStatus:
    head: TreeHead | None
    published: PublishedHead | None
    published_problems: list[str]  # empty: today's log extends the last published head


def ledger_status() -> LedgerStatus:
    """The newest head, and whether today's log extends the head last published outside the database
    (the last `PublishedHead` row, and the heads kept in LEDGER_PUBLISHED_HEADS, which a restore
    cannot take back)."""
    published = PublishedHead.objects.order_by("-published_at", "-id").first()
    problems = [] if published is None else check_extends(published.document)
    return LedgerStatus(latest_head(), published, [*problems, *rollback_problems()])


# Rollback: a database behind the heads already handed out -------------------------------------------

class RollbackDetected(Exception):
    """Today's ledger does not extend the last published head: a head signed now would fork the log."""


class PublishedHeadsUnreadable(Exception):
    """LEDGER_PUBLISHED_HEADS names heads that cannot be read: whether the ledger extends them is unknown."""


def published_heads() -> list[dict]:
    """Every head published outside the database: those kept in LEDGER_PUBLISHED_HEADS, which a restore
    cannot take back, then those the database recorded publishing (PublishedHead), which survive a
    restore only if the backup was taken after them. Each head once."""
    recorded = [published.document for published in PublishedHead.objects.order_by("tree_size", "id")]
    unique = {canonical_json(head): head for head in kept_published_heads() + recorded}
    return list(unique.values())


def kept_published_heads() -> list[dict]:
    """The heads in LEDGER_PUBLISHED_HEADS: the directory `publish_tree_head` writes to, or its
    heads.jsonl. A directory without the file yet holds none; a missing directory is an error, since a
    volume that is not mounted must not look like a log that never published."""
    if not settings.LEDGER_PUBLISHED_HEADS:
        return []
    path = Path(settings.LEDGER_PUBLISHED_HEADS)
    kept = path if path.suffix == ".jsonl" else path / PUBLISHED_FILE
    if not kept.parent.is_dir():
        raise PublishedHeadsUnreadable(f"LEDGER_PUBLISHED_HEADS names {path}, whose directory does not exist: "
                                       "the heads kept outside the database cannot be read")
    if not kept.exists():
        return []
    try:
        return ledger_verifier.read_kept_heads(kept)
    except (OSError, ValueError) as error:
        raise PublishedHeadsUnreadable(f"cannot read the published heads in {kept}: {error}") from None


def last_published_head() -> dict | None:
    """The largest published head whose signature verifies (a line nobody signed was never handed out)."""
    signed = [head for head in published_heads() if isinstance(head, dict)
              and ledger_verifier.signature_ok(head, head.get("public_key", ""))]
    return max(signed, key=lambda head: int(head["tree_size"]), default=None)


def describe_head(head: dict) -> str:
    return f"the published head of {head['tree_size']} events signed {head['timestamp']} (root {head['root_hash']})"


def extension_problem(head: dict, size: int) -> str | None:
    """Why a ledger of `size` leaves does not extend the published `head`; None when it does (it holds
    the head's leaves and its stored tree has the head's root at the head's size)."""
    head_size = int(head["tree_size"])
    if size < head_size:
        return (f"{describe_head(head)} is not extended: the ledger holds only {size} events, so the database "
                "is behind a head already handed out (restored from an older backup?)")
    if root_at(head_size).hex() != head["root_hash"]:
        return (f"{describe_head(head)} is not extended: the ledger's first {head_size} events do not give its "
                "root, so the database holds another history (restored from another backup, or rewritten)")
    return None


def fork_problem(size: int) -> str | None:
    """Why a head of `size` leaves would not extend the last published head; None when it would."""
    try:
        head = last_published_head()
    except PublishedHeadsUnreadable as error:
        return str(error)
    return None if head is None else extension_problem(head, size)


def rollback_problems() -> list[str]:
    """What an operator's status page shows: how today's ledger fails to extend the last head published
    outside the database (empty: it extends it, or nothing was published)."""
    problem = fork_problem(ledger_size())
    return [] if problem is None else [problem]


def refuse_to_fork(size: int) -> None:
    """Raise RollbackDetected, and log it, unless a head of `size` leaves extends the last published one."""
    problem = fork_problem(size)
    if problem is not None:
        logger.error("Refusing to sign a tree head of %s events: %s", size, problem)
        raise RollbackDetected(f"refusing to sign a tree head of {size} events: {problem}")
