#!/usr/bin/env python3
"""Verify an audit bundle of the payments audit trail, offline.

Needs only Python 3.11+ and the `cryptography` package: no database, no Django, no network.

    python verify.py [BUNDLE] [--public-key HEX] [--expect-head FILE]

BUNDLE is the bundle's directory or its .zip archive (default: the directory of this file). It checks:

- the chain of signing keys (keys.json): from its first key (which must be --public-key, when
  given), each key statement signed by the key it retires, handing signing to the next key after a
  tree size and from a time on;
- the signed tree head's Ed25519 signature, over the compact, key-sorted JSON of its tree_size,
  timestamp, root_hash and streams_root, by the key of the chain that signs heads of its size, and
  not timed outside that key's period; the same for every earlier head (heads.jsonl), each
  extended by the bundle's head (RFC 9162 section 2.1.4 consistency proofs);
- every event: its hash, the SHA-256 of its line in events.jsonl (its canonical JSON), and its leaf
  SHA-256(0x00 || hash) included in the head's tree (RFC 9162 section 2.1.3) at the ledger index on
  the same line of proofs.jsonl, or, for a bundle of the whole ledger, the tree's root recomputed
  from every leaf;
- every stream: versions 1, 2, 3... with no gap, each event's prev_hash the hash of the one before,
  and the newest event equal to the stream's entry in the head's streams_root, whose inclusion is
  proven (a stream's newest events, or a whole stream, cannot be missing unnoticed);
- with --expect-head (a file of heads kept outside the database, one JSON object a line, as
  `manage.py publish_tree_head` writes them): each kept head is signed as the bundle's heads are and
  the bundle's head extends it;
- with --statement (a period statement's JSON export): the statement is recomputed from the bundle's
  verified events by the rules it states (which event types move a balance, with which sign, where
  amount, currency, organization and business time are read), and must be equal, line for line and
  figure for figure; it must balance (closing = opening + movements) and name a signed head of the
  bundle that holds every event it used.

Prints a summary and exits 0, or lists every problem and exits 1.
"""

import argparse
import hashlib
import itertools
import json
import re
import sys
import zipfile
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

GENESIS_HASH = "0" * 64
BUNDLE_FORMAT = "payments-audit-bundle/2"
KEY_STATEMENT_FORMAT = "payments-ledger-key-statement/1"


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


# RFC 9162 verification ----------------------------------------------------------------------------

def leaf_hash(data: bytes) -> bytes:
    return sha256(b"\x00" + data)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def root_of(leaf_hashes: list[bytes]) -> bytes:
    """MTH over leaf hashes, bottom up: a level's odd last node is carried up unchanged, which gives
    the same tree as RFC 9162's split at the largest power of two. O(n): every node hashed once."""
    if not leaf_hashes:
        return sha256(b"")
    new_hash, level = hashlib.sha256, leaf_hashes
    while len(level) > 1:
        pairs = iter(level)
        paired = [new_hash(b"\x01" + left + right).digest() for left, right in zip(pairs, pairs)]
        level = paired + ([level[-1]] if len(level) % 2 else [])
    return level[0]


def verify_inclusion(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, path: list[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2."""
    if first == second:
        return not path and first_root == second_root
    if not 0 < first < second or not path:
        return False
    if first & (first - 1) == 0:  # a power of two: the first root is the first node of the path
        path = [first_root] + path
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


# The project's encodings --------------------------------------------------------------------------



def not_an_event(line: bytes) -> str:
    event = json_or_not(line)
    if event is NOT_JSON:
        return "not JSON"
    fields = f" (fields {sorted(event)})" if type(event) is dict else ""
    return f"not an event's canonical JSON{fields}"


def stream_leaf(stream_id: str, version: int, head_hash: str) -> bytes:
    return canonical({"head_hash": head_hash, "stream_id": stream_id, "version": version}).encode()


def head_message(head: dict) -> bytes:
    return canonical({key: head[key] for key in ("root_hash", "streams_root", "timestamp", "tree_size")}).encode()


def statement_message(statement: dict) -> bytes:
    """A key statement's signed bytes: its fields that say which key signs from when."""
    fields = ("next_public_key", "previous_public_key", "sequence", "timestamp", "tree_size")
    return canonical({"format": KEY_STATEMENT_FORMAT, **{key: statement[key] for key in fields}}).encode()


def key_id(public_key: str) -> str:
    return hashlib.sha256(bytes.fromhex(public_key)).hexdigest()


def signed(public_key: str, signature: str, message) -> bool:
    """Whether `signature` (hex) by `public_key` (raw, hex) verifies over `message()`."""
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(bytes.fromhex(signature), message())
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return False
    return True


def signature_ok(head: dict, public_key: str) -> bool:
    return signed(public_key, head.get("signature", ""), lambda: head_message(head))


def key_of_size(periods: list[dict], size: int) -> dict | None:
    """The period of the key that signs the head of `size`, if any may."""
    return next((period for period in periods if period["after"] < size and (
        period["last"] is None or size <= period["last"])), None)


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def unhex(values) -> list[bytes]:
    return [bytes.fromhex(value) for value in values]


# The bundle ---------------------------------------------------------------------------------------

class Bundle:
    """The bundle's files, from its directory or its zip archive."""

    def __init__(self, path: Path):
        if path.is_dir():
            self._open = lambda name: (path / name).open("rb")
        else:
            archive = zipfile.ZipFile(path)
            self._open = archive.open

    def json(self, name: str):
        with self._open(name) as file:
            return json.loads(file.read())

    def batches(self, name: str):
        """Lists of (line number, line) of the lines that are not blank, about a megabyte at a time."""
        number = 0
        with self._open(name) as file:
            while chunk := file.readlines(CHUNK_BYTES):
                batch = []
                for line in chunk:
                    number += 1
                    if line.strip():
                        batch.append((number, line.rstrip(b"\n")))
                yield batch

    def lines(self, name: str):
        """(line number, line, its JSON value or NOT_JSON) of each line that is not blank."""
        return itertools.chain.from_iterable(map(parsed, self.batches(name)))

    def event_lines(self):
        """(line number, line, the fields that place it in its stream or None) of each event."""
        return itertools.chain.from_iterable(map(stream_fields, self.batches("events.jsonl")))


CHUNK_BYTES = 1 << 20
NOT_JSON = object()
NO_PROOF = (None, None, {"ledger_index": None})
TAIL_KEYS = ["position", "prev_hash", "recorded_at", "stream_id", "version"]


def parsed(numbered_lines: list[tuple[int, bytes]]) -> list[tuple[int, bytes, object]]:
    """Each line with its JSON value, the lines parsed together as one array (half the cost of a
    parse per line). Should a broken line make the array parse otherwise, they are parsed one by one,
    so each line that is not JSON is named."""
    lines = [line for _, line in numbered_lines]
    try:
        values = json.loads(b"[" + b",".join(lines) + b"]")
    except ValueError:
        values = None
    if values is None or len(values) != len(lines):
        values = [json_or_not(line) for line in lines]
    return [(number, line, value) for (number, line), value in zip(numbered_lines, values)]


def json_or_not(line: bytes):
    try:
        return json.loads(line)
    except ValueError:
        return NOT_JSON


def stream_fields(numbered_lines: list[tuple[int, bytes]]) -> list[tuple[int, bytes, tuple | None]]:
    """Each event line with its (position, prev_hash, recorded_at, stream_id, version), or None when
    it does not end as an event's canonical JSON does.

    Only the line's tail is parsed, a quarter of it: in canonical JSON (keys sorted) these are the
    event's last five fields, and the last `,"position":` of the line starts them, since nothing after
    it holds an object and a quote inside a string is escaped. Whether the rest of the line is the
    recorded event, its hash says: the line is hashed as it is, and only an event's own line is a
    leaf of the signed tree."""
    tails = [(number, b"{" + line[line.rfind(b',"position":') + 1:]) for number, line in numbered_lines]
    return [(number, line, tuple(tail.values()) if type(tail) is dict and list(tail) == TAIL_KEYS else None)
            for (number, line), (_, _, tail) in zip(numbered_lines, parsed(tails))]


class Verification:
    def __init__(self):
        self.problems: list[str] = []

    def fail(self, message: str) -> None:
        self.problems.append(message)

    def run(self, bundle: Bundle, public_key: str | None, kept_heads: list[dict]) -> dict:
        manifest = bundle.json("manifest.json")
        if manifest.get("format") != BUNDLE_FORMAT:
            self.fail(f"manifest.json: format {manifest.get('format')!r} is not {BUNDLE_FORMAT}")
        head = bundle.json("head.json")
        periods = self.follow_keys(bundle.json("keys.json"), public_key)
        self.check_signed_head("head.json", head, periods)
        root, size = bytes.fromhex(head["root_hash"]), head["tree_size"]
        streams = self.check_events(bundle, manifest, root, size)
        self.check_streams(bundle, manifest, head, streams)
        earlier = [("heads.jsonl", line) for _, _, line in bundle.lines("heads.jsonl")]
        self.check_earlier_heads(bundle, head, periods, earlier + [("kept head", kept) for kept in kept_heads])
        return {"head": head, "events": sum(len(events) for events in streams.values()), "streams": len(streams),
                "complete": manifest.get("complete", False), "keys": len(periods)}

    def follow_keys(self, chain: dict, pinned: str | None) -> list[dict]:
        """Each key's period, from the first key through every statement the current key signed:
        {"public_key", "after": the size above which it signs, "last": its largest size or None,
        "since"/"until": its statements' times or None}. The chain stops at the first bad statement."""
        first = chain["first_public_key"]
        if pinned is not None and first != pinned.lower():
            self.fail(f"keys.json: the chain of keys starts at key {first}, not by the expected {pinned}")
        periods = [{"public_key": first, "after": 0, "last": None, "since": None, "until": None}]
        for number, statement in enumerate(chain["statements"], 1):
            current, where = periods[-1], f"keys.json statement {number}"
            if statement["sequence"] != number or statement["previous_public_key"] != current["public_key"]:
                self.fail(f"{where}: it does not hand over from the current key {key_id(current['public_key'])}")
                break
            if not signed(current["public_key"], statement["signature"], lambda: statement_message(statement)):
                self.fail(f"{where}: it is not signed by the key it retires, {key_id(current['public_key'])}")
                break
            if statement["tree_size"] < current["after"]:
                self.fail(f"{where}: it retires a key before the size from which it signs")
                break
            current["last"], current["until"] = statement["tree_size"], statement["timestamp"]
            if statement["next_public_key"] is None:
                break
            periods.append({"public_key": statement["next_public_key"], "after": statement["tree_size"],
                            "last": None, "since": statement["timestamp"], "until": None})
        return periods

    def check_signed_head(self, where: str, head: dict, periods: list[dict]) -> bool:
        """The head is signed by the key of the chain that signs heads of its size, in that key's time."""
        size, public_key = head.get("tree_size"), head.get("public_key", "")
        period = key_of_size(periods, size) if type(size) is int else None
        retired = next((other for other in periods if other["public_key"] == public_key
                        and other["last"] is not None and type(size) is int and size > other["last"]), None)
        problem = None
        if retired is not None:
            problem = (f"signed by key {key_id(public_key)} after its retirement at size {retired['last']} "
                       f"({retired['until']})")
        elif period is None:
            problem = f"no key of the chain signs a head of size {size}"
        elif public_key != period["public_key"]:
            problem = f"signed by key {public_key}, not by the key of its size, {period['public_key']}"
        elif not signature_ok(head, public_key):
            problem = "the signature does not verify (the head was altered or signed by another key)"
        elif head.get("key_id", key_id(public_key)) != key_id(public_key):
            problem = "its key_id is not the SHA-256 of its public key"
        elif period["until"] and moment(head["timestamp"]) > moment(period["until"]):
            problem = f"signed by key {key_id(public_key)} after its retirement at {period['until']}"
        elif period["since"] and moment(head["timestamp"]) < moment(period["since"]):
            problem = f"signed by key {key_id(public_key)} before it was handed signing at {period['since']}"
        if problem:
            self.fail(f"{where}: {problem}")
        return problem is None

    def check_events(self, bundle: Bundle, manifest: dict, root: bytes, size: int) -> dict[str, list[tuple]]:
        """Each stream's events as (version, position, recorded_at, prev_hash, hash), in bundle order."""
        complete = manifest.get("complete", False)
        streams: dict[str, list[tuple]] = {}
        leaves: list[bytes | None] = [None] * size if complete else []
        proofs = itertools.chain(bundle.lines("proofs.jsonl"), itertools.repeat(NO_PROOF))
        new_hash = hashlib.sha256
        for (number, line, fields), (_, _, proof) in zip(bundle.event_lines(), proofs):
            if fields is None:
                self.fail(f"events.jsonl line {number}: {not_an_event(line)}")
                continue
            digest = new_hash(line).digest()
            position, prev_hash, recorded_at, stream_id, version = fields
            events = streams.get(stream_id)
            if events is None:
                events = streams[stream_id] = []
            events.append((version, position, recorded_at, prev_hash, digest.hex()))
            index = proof.get("ledger_index") if type(proof) is dict else NOT_JSON
            if complete and type(index) is int and 0 <= index < size and leaves[index] is None:
                leaves[index] = new_hash(b"\x00" + digest).digest()
            else:
                self.check_inclusion(f"events.jsonl line {number} ({stream_id} v{version})", index, digest, proof,
                                     complete, size, root)
        if next(proofs) is not NO_PROOF:
            self.fail("proofs.jsonl: more lines than events.jsonl")
        if complete:
            missing = leaves.count(None)
            if missing:
                self.fail(f"events.jsonl: a whole-ledger bundle holds the {size} leaves of its head; "
                          f"{missing} of them are missing (events removed)")
            elif root_of(leaves) != root:
                self.fail("events.jsonl: the events' tree does not have the head's root (events altered or reordered)")
        if not streams and manifest.get("event_count", 0):
            self.fail("events.jsonl: no events, but the manifest lists some")
        return streams

    def check_inclusion(self, where: str, index, digest: bytes, proof, complete: bool, size: int,
                        root: bytes) -> None:
        """An event whose leaf a whole-ledger bundle did not take, or one of a bundle of some streams."""
        if index is NOT_JSON:
            self.fail(f"{where}: its line in proofs.jsonl is not a proof")
        elif index is None:
            self.fail(f"{where}: it was committed before the head's newest event but is not in the head's tree "
                      "(inserted behind the log's back)")
        elif complete:
            self.fail(f"{where}: ledger index {index} is outside the head's tree or given twice")
        elif not verify_inclusion(index, size, leaf_hash(digest), unhex(proof.get("audit_path", [])), root):
            self.fail(f"{where}: it is not the event at ledger index {index} of the head's tree (altered, or its "
                      "proof is wrong)")

    def check_streams(self, bundle: Bundle, manifest: dict, head: dict, streams: dict[str, list[dict]]) -> None:
        streams_root, streams_size = bytes.fromhex(head["streams_root"]), manifest["streams_tree_size"]
        entries = {}
        for number, _, entry in bundle.lines("streams.jsonl"):
            leaf = leaf_hash(stream_leaf(entry["stream_id"], entry["version"], entry["head_hash"]))
            entries[entry["stream_id"]] = (entry, leaf)
            if not manifest.get("complete") and not verify_inclusion(
                    entry["index"], streams_size, leaf, unhex(entry["audit_path"]), streams_root):
                self.fail(f"streams.jsonl line {number} ({entry['stream_id']}): its proof does not lead to the "
                          "head's streams_root")
        if manifest.get("complete"):
            ordered = sorted(entries.values(), key=lambda pair: pair[0]["index"])
            if [pair[0]["index"] for pair in ordered] != list(range(streams_size)) or \
                    root_of([leaf for _, leaf in ordered]) != streams_root:
                self.fail("streams.jsonl: the streams' tree does not have the head's streams_root")
        for stream_id in sorted(set(entries) | set(streams)):
            self.check_stream(stream_id, sorted(streams.get(stream_id, [])),
                              entries.get(stream_id, (None,))[0])

    def check_stream(self, stream_id: str, events: list[tuple], entry: dict | None) -> None:
        if entry is None:
            self.fail(f"{stream_id}: it has events but no entry in streams_root")
            return
        if not events:
            self.fail(f"{stream_id}: streams_root records v{entry['version']} but the bundle holds none of its events")
            return
        expected_prev, before = GENESIS_HASH, None
        for expected_version, (version, position, recorded_at, prev_hash, digest) in enumerate(events, 1):
            if version != expected_version:
                self.fail(f"{stream_id} v{version}: expected v{expected_version} (events missing)")
                break
            if prev_hash != expected_prev:
                self.fail(f"{stream_id} v{version}: does not link to the event before it (it or that one was altered)")
            if before is not None and (position <= before[1] or recorded_at < before[2]):
                self.fail(f"{stream_id} v{version}: its position or time is not after v{before[0]}'s")
            expected_prev, before = digest, (version, position, recorded_at)
        newest_version, newest_hash = events[-1][0], events[-1][4]
        if (newest_version, newest_hash) != (entry["version"], entry["head_hash"]):
            self.fail(f"{stream_id}: the bundle ends at v{newest_version} but streams_root records "
                      f"v{entry['version']} (its newest events are missing or altered)")

    def check_earlier_heads(self, bundle: Bundle, head: dict, periods: list[dict],
                            earlier: list[tuple[str, dict]]) -> None:
        """The bundle's earlier heads and the heads an auditor kept: signed in their key's period,
        and extended by the bundle's head."""
        if not earlier:
            return
        proofs = {line["first"]: line for _, _, line in bundle.lines("consistency.jsonl")}
        for source, kept in earlier:
            where = f"{source}: the head of size {kept.get('tree_size')}"
            if not self.check_signed_head(where, kept, periods):
                continue
            if kept["tree_size"] > head["tree_size"]:
                self.fail(f"{where}: it is newer than the bundle's head of size {head['tree_size']}")
                continue
            proof = proofs.get(kept["tree_size"])
            path = unhex(proof["consistency_path"]) if proof else []
            if not verify_consistency(kept["tree_size"], head["tree_size"], bytes.fromhex(kept["root_hash"]),
                                      bytes.fromhex(head["root_hash"]), path):
                self.fail(f"{where}: the bundle's head does not extend it (history rewritten since it was kept)")


# Statements ---------------------------------------------------------------------------------------

STATEMENT_FORMAT = "payments-statement/1"
ISO_WITH_OFFSET = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})")
BALANCES = ("opening", "closing")


def field(event: dict, path: str):
    """The value at a dotted path of the event ("data.amount"), or None."""
    value = event
    for name in path.split("."):
        value = value.get(name) if type(value) is dict else None
    return value


def decimal_of(value) -> Decimal | None:
    if type(value) not in (str, int, Decimal):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def business_time(event: dict, path: str) -> datetime:
    text = field(event, path)
    if type(text) is str and ISO_WITH_OFFSET.fullmatch(text):
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    return moment(event["recorded_at"])


class StatementCheck:
    """A period statement recomputed from the bundle's events by the rules it states."""

    def __init__(self, statement: dict, fail):
        self.statement, self.fail = statement, fail
        rules = statement["rules"]
        self.rules = rules
        self.kinds = {movement["event_type"]: (movement["kind"], Decimal(movement["sign"]))
                      for movement in rules["movements"]}
        self.since, self.until = moment(statement["from"]), moment(statement["to"])
        self.known_at = moment(statement["known_at"])
        self.totals: dict[str, dict[str, Decimal]] = {}
        self.lines: dict[str, dict] = {}
        self.newest_index = -1

    def add(self, line: bytes, event, index) -> None:
        """One event line of the bundle (already verified), its JSON value and its ledger index."""
        if type(event) is not dict:
            return
        kind = self.kinds.get(event.get("event_type"))
        amount = decimal_of(field(event, self.rules["amount"]))
        if (kind is None or amount is None or field(event, self.rules["organization"]) != self.statement["organization_id"]
                or moment(event["recorded_at"]) > self.known_at):
            return
        occurred, currency = business_time(event, self.rules["business_time"]), field(event, self.rules["currency"])
        if occurred >= self.until:
            return
        figures = self.totals.setdefault(currency, {})
        self.newest_index = max(self.newest_index, index if type(index) is int else sys.maxsize)
        if occurred < self.since:
            figures["opening"] = figures.get("opening", Decimal(0)) + kind[1] * amount
            return
        figures[kind[0]] = figures.get(kind[0], Decimal(0)) + amount
        self.lines[event["event_id"]] = {
            "kind": kind[0], "currency": currency, "amount": amount, "stream_id": event["stream_id"],
            "event_type": event["event_type"], "ledger_index": index, "hash": hashlib.sha256(line).hexdigest()}

    def compare(self, heads: list[dict]) -> int:
        """Problems found with the statement as served; the number of lines compared."""
        self.compare_head(heads)
        served = {line["event_id"]: line for line in self.statement["lines"]}
        for event_id in sorted(set(served) | set(self.lines)):
            mine, theirs = self.lines.get(event_id), served.get(event_id)
            if theirs is None:
                self.fail(f"statement: event {event_id} ({mine['stream_id']}) counts by its rules but is not listed")
            elif mine is None:
                self.fail(f"statement: event {event_id} is listed but the bundle holds no such event that counts")
            elif (mine["kind"], mine["currency"], mine["amount"], mine["stream_id"], mine["ledger_index"], mine["hash"]) \
                    != (theirs["kind"], theirs["currency"], decimal_of(theirs["amount"]), theirs["stream_id"],
                        theirs["ledger_index"], theirs["hash"]):
                self.fail(f"statement: event {event_id} is listed otherwise than the bundle records it")
        self.compare_totals()
        return len(served)

    def compare_head(self, heads: list[dict]) -> None:
        named = self.statement.get("tree_head")
        if named is None:
            self.fail("statement: it names no signed tree head (its events were not all signed yet)")
            return
        if not any(head["tree_size"] == named["tree_size"] and head["root_hash"] == named["root_hash"] for head in heads):
            self.fail(f"statement: its tree head of size {named['tree_size']} is not a signed head of this bundle")
        if self.newest_index >= named["tree_size"]:
            self.fail(f"statement: it uses events beyond its tree head of size {named['tree_size']}")

    def compare_totals(self) -> None:
        movements = [kind for kind, _ in self.kinds.values()]
        signs = dict(self.kinds.values())
        served = {entry["currency"]: entry for entry in self.statement["currencies"]}
        for currency in sorted(set(served) | set(self.totals)):
            mine, theirs = self.totals.get(currency, {}), served.get(currency)
            if theirs is None:
                self.fail(f"statement: {currency} has movements by its rules but no balance")
                continue
            figures = {figure: decimal_of(theirs.get(figure)) for figure in (*BALANCES, *movements)}
            if None in figures.values():
                self.fail(f"statement: {currency} lacks a figure, or one is not a decimal")
                continue
            if figures["closing"] != figures["opening"] + sum(signs[kind] * figures[kind] for kind in movements):
                self.fail(f"statement: {currency} does not balance (closing is not opening + movements)")
            mine["closing"] = mine.get("opening", Decimal(0)) + sum(
                signs[kind] * mine.get(kind, Decimal(0)) for kind in movements)
            for figure, value in figures.items():
                if value != mine.get(figure, Decimal(0)):
                    self.fail(f"statement: {currency} {figure} is {theirs.get(figure)}; the bundle's events give "
                              f"{mine.get(figure, Decimal(0))}")


def exact_values(numbered_lines: list[tuple[int, bytes]]) -> list[tuple[bytes, object]]:
    """Each line with its JSON value, numbers as exact decimals, parsed together as `parsed` does."""
    lines = [line for _, line in numbered_lines]
    try:
        values = json.loads(b"[" + b",".join(lines) + b"]", parse_float=Decimal)
    except ValueError:
        values = None
    if values is None or len(values) != len(lines):
        values = [json_or_not(line) for line in lines]
    return list(zip(lines, values))


def check_statement(verification: "Verification", bundle: Bundle, statement: dict) -> int:
    """Recompute `statement` from the bundle's events; the number of its lines."""
    if statement.get("format") != STATEMENT_FORMAT:
        verification.fail(f"statement: format {statement.get('format')!r} is not {STATEMENT_FORMAT}")
        return 0
    check = StatementCheck(statement, verification.fail)
    proofs = itertools.chain(bundle.lines("proofs.jsonl"), itertools.repeat(NO_PROOF))
    events = itertools.chain.from_iterable(map(exact_values, bundle.batches("events.jsonl")))
    for (line, event), (_, _, proof) in zip(events, proofs):
        check.add(line, event, proof.get("ledger_index") if type(proof) is dict else None)
    heads = [bundle.json("head.json"), *(line for _, _, line in bundle.lines("heads.jsonl"))]
    return check.compare(heads)


def read_kept_heads(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", nargs="?", default=str(Path(__file__).resolve().parent))
    parser.add_argument("--public-key", help="The log's first Ed25519 public key (hex) as the auditor knows it.")
    parser.add_argument("--expect-head", type=Path, help="A file of heads kept outside the database.")
    parser.add_argument("--statement", type=Path, help="A period statement's JSON export, recomputed from the bundle.")
    arguments = parser.parse_args(argv)
    verification = Verification()
    try:
        kept = read_kept_heads(arguments.expect_head) if arguments.expect_head else []
        bundle = Bundle(Path(arguments.bundle))
        summary = verification.run(bundle, arguments.public_key, kept)
        if arguments.statement:
            statement = json.loads(arguments.statement.read_text())
            summary["statement"] = (statement, check_statement(verification, bundle, statement))
    except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile) as error:
        verification.fail(f"the bundle cannot be read: {type(error).__name__}: {error}")
        summary = None
    if verification.problems:
        print(f"FAILED: {len(verification.problems)} problems", file=sys.stderr)
        for problem in verification.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    head = summary["head"]
    scope = "the whole ledger" if summary["complete"] else "a selection of streams"
    print(f"OK: {summary['events']} events in {summary['streams']} streams ({scope}) verified against the head "
          f"of {head['tree_size']} events signed at {head['timestamp']} by key {head['public_key']} "
          f"(the chain of keys holds {summary['keys']})"
          + (f"; it extends {len(kept)} kept heads" if kept else "") + ".")
    if "statement" in summary:
        statement, lines = summary["statement"]
        print(f"OK: the statement of {statement['organization_id']} from {statement['from']} to {statement['to']} "
              f"as known at {statement['known_at']} recomputes from the bundle: {lines} lines, "
              f"{len(statement['currencies'])} currencies, under the head of {statement['tree_head']['tree_size']} "
              "events.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
