"""The audit bundle: what an auditor needs to check the ledger, or part of it, without us.

One zip archive holding the selected streams' events in canonical JSON Lines (each line the exact text
an event's hash is taken of), each with its ledger index and inclusion proof against one signed head
(for the whole ledger, every leaf instead), those streams' entries in the
head's `streams_root` with their proofs, every earlier signed head and a consistency proof from each,
the head and its public key, the chain of signing keys (its first key and every key statement), a README for auditors and the standalone verifier (`eventstore/ledger/verifier.py`, run as
`python verify.py`), which needs only Python and `cryptography`.

Streams are selected whole (every event up to the head), so each chain can be checked from v1.
"""

import json
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

from django.db import connection

from eventstore.encoding import canonical_json, canonical_json_of_texts, event_document, timestamp_text
from eventstore.ledger import keys, proofs
from eventstore.ledger import service as ledger
from eventstore.ledger.models import TreeHead
from eventstore.ledger.selectors import heads_smaller_than, signed_sizes_below

BUNDLE_FORMAT = "payments-audit-bundle/2"
VERIFIER = Path(__file__).with_name("verifier.py")
EXPORT_BATCH = 5000

class NothingToExport(Exception):
    """No signed head yet, or the selection matches no stream."""


@dataclass(frozen=True)
class Selection:
    """Which streams go into a bundle; all None: the whole ledger."""

    organization_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    stream_id: str | None = None

    @property
    def whole_ledger(self) -> bool:
        return self.organization_id is None and self.since is None and self.until is None and self.stream_id is None

    def describe(self) -> dict:
        return {"organization": self.organization_id, "stream": self.stream_id,
                "from": self.since and timestamp_text(self.since), "to": self.until and timestamp_text(self.until)}


def selected_streams(selection: Selection, tree_size: int) -> list[str]:
    """Streams with at least one event in the first `tree_size` leaves that matches the selection."""
    conditions, params = ["entry.ledger_index < %s"], [tree_size]
    for value, condition in (
        (selection.organization_id, "(event.metadata ->> 'organization_id') = %s"),
        (selection.since, "event.recorded_at >= %s"),
        (selection.until, "event.recorded_at < %s"),
        (selection.stream_id, "event.stream_id = %s"),
    ):
        if value is not None:
            conditions.append(condition)
            params.append(value)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT event.stream_id FROM eventstore_event AS event JOIN eventstore_ledgerentry AS entry"
            f" ON entry.position = event.position WHERE {' AND '.join(conditions)} ORDER BY 1",
            params,
        )
        return [row[0] for row in cursor.fetchall()]


_UTC_TEXT = """to_char(event.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00'"""


def _event_rows(tree_size: int, stream_ids: list[str] | None) -> Iterator[list[tuple]]:
    """The events of the whole ledger in position order (a merge of two indexes, no sort), or of some
    streams by stream and version, in batches of EXPORT_BATCH rows, each with its ledger index.

    An event without a ledger index whose commit order puts it before the head's last leaf is
    included too, with index None: nothing honest is in that place (the verifier reports it)."""
    sql = ("SELECT entry.ledger_index, event.prev_hash, event.position, event.event_id::text, event.stream_id,"
           f" event.aggregate_type, event.version, event.event_type, event.data, event.metadata, {_UTC_TEXT},"
           " event.hash FROM eventstore_event AS event"
           " LEFT JOIN eventstore_ledgerentry AS entry ON entry.position = event.position"
           " WHERE (entry.ledger_index < %s OR (entry.ledger_index IS NULL AND (event.transaction_id, event.position)"
           " < (SELECT last.transaction_id, last.position FROM eventstore_ledgerentry AS last"
           "    WHERE last.ledger_index = %s)))")
    params: list = [tree_size, tree_size - 1]
    if stream_ids is None:
        sql += " ORDER BY event.position"
    else:
        sql += " AND event.stream_id = ANY(%s) ORDER BY event.stream_id, event.version"
        params.append(stream_ids)
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(EXPORT_BATCH):
            yield rows


def _documents(rows: list[tuple]) -> list[tuple[int | None, str]]:
    """(ledger index, canonical event document) of each row."""
    payloads = iter(canonical_json_of_texts([text for row in rows for text in (row[8], row[9])]))
    return [
        (index, event_document(
            prev_hash=prev_hash, position=position, event_id=event_id, stream_id=stream_id,
            aggregate_type=aggregate_type, version=version, event_type=event_type, data_json=data_json,
            metadata_json=metadata_json, recorded_at=recorded_at,
        ))
        for (index, prev_hash, position, event_id, stream_id, aggregate_type, version, event_type, _, _,
             recorded_at, _), data_json, metadata_json in zip(rows, payloads, payloads)
    ]


def export_audit_bundle(out: Path, selection: Selection = Selection(), *,
                        on_progress: Callable[[int], None] | None = None) -> dict:
    """Write the bundle to `out` (a .zip) against the head proofs refer to by default (the newest
    signed head); its manifest."""
    try:
        head = proofs.proof_head()
    except proofs.NoSignedHead:
        raise NothingToExport("no tree head is signed yet: run `manage.py sign_tree_head` first") from None
    size = head.tree_size
    stream_ids = None if selection.whole_ledger else selected_streams(selection, size)
    if stream_ids == []:
        raise NothingToExport("no stream matches the selection in the newest signed head")
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        event_count, newest = _write_events(archive, size, stream_ids, on_progress)
        all_streams = (list(ledger.streams_at(size, head.streams_order)) if newest is None
                       else _in_order(newest, head.streams_order))
        streams_tree = ledger.streams_tree(all_streams)
        archive.writestr("streams.jsonl", _streams_lines(all_streams, streams_tree, stream_ids))
        archive.writestr("consistency.jsonl", _consistency_lines(size))
        archive.writestr("heads.jsonl", "".join(canonical_json(ledger.head_document(earlier)) + "\n"
                                                for earlier in heads_smaller_than(size)))
        chain = keys.keys_document()
        archive.writestr("keys.json", json.dumps(chain, indent=2) + "\n")
        manifest = {
            "format": BUNDLE_FORMAT, "complete": stream_ids is None, "selection": selection.describe(),
            "tree_size": size, "streams_tree_size": len(all_streams), "event_count": event_count,
            "stream_count": len(all_streams) if stream_ids is None else len(stream_ids),
        }
        document = ledger.head_document(head)
        archive.writestr("manifest.json", json.dumps(manifest, indent=2) + "\n")
        archive.writestr("head.json", json.dumps(document, indent=2) + "\n")
        archive.writestr("public_key.txt", head.public_key + "\n")
        archive.writestr("README.md", auditor_readme(document, manifest, chain["first_public_key"]))
        archive.write(VERIFIER, "verify.py")
    return manifest


def _in_order(newest: dict[str, tuple[int, str, int]], order: str) -> list[ledger.StreamEntry]:
    """The streams' entries in the order of the head's streams tree, as `ledger.streams_at` gives them
    (stream ids sort alike here and in the database, whose collation is C)."""
    if order == TreeHead.FIRST_IN_LEDGER_ORDER:
        ordered = sorted(newest.items(), key=lambda item: item[1][2])
    else:
        ordered = sorted(newest.items())
    return [ledger.StreamEntry(stream_id, version, head_hash) for stream_id, (version, head_hash, _) in ordered]


def _write_events(archive: zipfile.ZipFile, size: int, stream_ids: list[str] | None,
                  on_progress) -> tuple[int, dict[str, tuple[int, str, int]] | None]:
    """events.jsonl: each event's canonical document, whose SHA-256 is its hash; proofs.jsonl, line
    for line: its ledger index and, in a bundle of some streams, its audit path. The count, and for
    the whole ledger each stream's newest (version, hash) in the tree with its first leaf, taken on
    the way."""
    # A zip archive takes one file at a time: the proofs wait in a temporary file meanwhile.
    with tempfile.TemporaryFile() as proofs_file:
        with archive.open("events.jsonl", "w", force_zip64=True) as events_file:
            count, newest = _write_event_lines(events_file, proofs_file, size, stream_ids, on_progress)
        proofs_file.seek(0)
        with archive.open("proofs.jsonl", "w", force_zip64=True) as archived:
            shutil.copyfileobj(proofs_file, archived, 1 << 20)
    return count, newest


def _write_event_lines(events_file, proofs_file, size: int, stream_ids: list[str] | None, on_progress):
    count, newest = 0, None if stream_ids is not None else {}
    for rows in _event_rows(size, stream_ids):
        batch = _documents(rows)
        if newest is not None:
            _take_newest(newest, rows)
        paths = {} if stream_ids is None else proofs.audit_paths([i for i, _ in batch if i is not None], size)
        events_file.write("".join([document + "\n" for _, document in batch]).encode())
        proofs_file.write("".join([_proof_line(index, paths) for index, _ in batch]).encode())
        count += len(batch)
        if on_progress is not None:
            on_progress(len(batch))
    return count, newest


def _take_newest(newest: dict[str, tuple[int, str, int]], rows: list[tuple]) -> None:
    """Rows in position order: a stream's later row is a later version; its first leaf is the least."""
    for index, stream_id, version, event_hash in ((row[0], row[4], row[6], row[11]) for row in rows):
        if index is not None:
            known = newest.get(stream_id)
            newest[stream_id] = (version, event_hash, index if known is None else min(known[2], index))


def _proof_line(index: int | None, paths: dict[int, list[str]]) -> str:
    if index not in paths:
        return f'{{"ledger_index":{"null" if index is None else index}}}\n'
    return canonical_json({"audit_path": paths[index], "ledger_index": index}) + "\n"


def _streams_lines(entries: list[ledger.StreamEntry], tree, stream_ids: list[str] | None) -> str:
    wanted = None if stream_ids is None else set(stream_ids)
    lines = []
    for index, entry in enumerate(entries):
        if wanted is not None and entry.stream_id not in wanted:
            continue
        line = {"index": index, "stream_id": entry.stream_id, "version": entry.version, "head_hash": entry.head_hash}
        if wanted is not None:
            line["audit_path"] = [node.hex() for node in tree.inclusion_proof(index)]
        lines.append(canonical_json(line))
    return "".join(line + "\n" for line in lines)


def _consistency_lines(size: int) -> str:
    """A consistency proof from every earlier signed head to this one, so any head an auditor kept
    can be checked against the bundle."""
    return "".join(
        canonical_json({"first": first, "second": size, "consistency_path": proofs.consistency_path(first, size)})
        + "\n" for first in signed_sizes_below(size)
    )


def auditor_readme(head: dict, manifest: dict, first_key: str) -> str:
    scope = ("every event of the ledger" if manifest["complete"]
             else f"every event of {manifest['stream_count']} selected streams ({manifest['selection']})")
    return f"""# Audit bundle

This bundle holds {scope}, {manifest['event_count']} events, against one signed tree head: the
ledger of {head['tree_size']} events signed at {head['timestamp']} with the Ed25519 key
{head['public_key']}.

## Check it

    pip install cryptography
    python verify.py .                      # or: python verify.py bundle.zip
    python verify.py . --public-key {first_key}   # the first signing key, known from elsewhere
    python verify.py . --expect-head heads.jsonl   # heads you kept earlier
    python verify.py . --statement statement.json  # a period statement's JSON export, recomputed here

It prints a summary and exits 0, or lists every problem and exits 1. It needs nothing else: no
database, no network, none of our code but `verify.py`, which is short enough to read.

## What it proves

- The head (`head.json`) was signed by the key above: the signature covers the compact, key-sorted
  JSON of `root_hash`, `streams_root`, `timestamp` and `tree_size`. That key is the one the chain of
  keys (`keys.json`) gives heads of its size: from the first key, each key statement is signed by the
  key it retires and names the next one, the size after which and the time from which it signs. So
  is every earlier head (`heads.jsonl`): a head signed by a retired key after its retirement fails.
- Every event in `events.jsonl` is exactly as recorded. Each line is an event's canonical JSON (keys
  sorted, no spaces, UTF-8, `recorded_at` in UTC with microseconds), and its hash is the SHA-256 of
  that line; SHA-256(0x00 || hash) is a leaf of the signed tree at the `ledger_index` on the same
  line of `proofs.jsonl` (RFC 9162 inclusion proofs; a bundle of the whole ledger recomputes the
  root from every leaf instead). Each event's `prev_hash` is the hash of its stream's event before.
- Each stream is whole: versions 1, 2, 3... each linked to the one before by `prev_hash`, ending at
  the version and hash that the signed `streams_root` records for it (`streams.jsonl`, with proofs).
  A stream's newest events, or a whole selected stream, cannot be missing without the check failing.
- With `--expect-head`, the signed log still extends every head you kept (RFC 9162 consistency
  proofs in `consistency.jsonl`): history was not rewritten since, not even by someone holding the
  signing key and full rights on the database.

- With `--statement`, that a period statement (its JSON export) is what these events give by the
  rules it states: every line (event id, amount, ledger index, hash) and every balance, that it
  balances (closing = opening + movements), and that the head it names is one of this bundle's
  signed heads and holds every event it used. Ask for a bundle of the statement's organization (or
  of the whole ledger): only the events in the bundle can be counted.

## What it cannot prove

- That events recorded after this head are sound: ask for a newer bundle.
- That nothing was left out of the selection: events of other streams are not in a partial bundle
  (only a bundle of the whole ledger shows every event).
- That the events describe what really happened: it proves they were recorded so and not changed.
- That the keys are ours: compare the first key with one obtained from us through another channel, or
  pass it with `--public-key`. A chain from which the newest statements were removed shows a retired
  key as current: compare the newest key with `GET /api/ledger/keys/`, or keep heads (`--expect-head`).
"""
