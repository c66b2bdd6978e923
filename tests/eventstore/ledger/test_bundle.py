"""The audit bundle verifies offline with nothing but Python and `cryptography`, and any tampering
done after its head was signed, a one-byte edit or another key makes the verifier fail."""

import ast
import hashlib
import http.server
import json
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError

from eventstore.events import ANY, NewEvent
from eventstore.integrity.models import Seal
from eventstore.integrity.verification import verify_event_chain
from eventstore.ledger import service as ledger
from eventstore.ledger.bundle import Selection, export_audit_bundle
from eventstore.ledger.signing import head_message
from eventstore.store import append_events
from tests.eventstore import merkle_reference as reference
from tests.eventstore.helpers import payment_data
from tests.eventstore.integrity.test_verification import TAMPERING, write_history
from tests.eventstore.ledger.head_format import signed_with

pytestmark = pytest.mark.django_db(transaction=True)

# Seals carry no event: removing or editing one changes nothing a bundle holds (verify_event_chain
# still catches them).
SEAL_ONLY = {"removed the newest seal", "edited a seal", "moved an event out of the seal"}
HISTORY_TAMPERING = {name: statements for name, statements in TAMPERING.items() if name not in SEAL_ONLY}


def unpacked(archive: Path) -> Path:
    directory = archive.with_suffix("")
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(directory)
    return directory


def run_verifier(bundle: Path, *args: str) -> subprocess.CompletedProcess:
    """The bundle's own verify.py, in an isolated interpreter with no Django settings, outside the project."""
    verifier = bundle / "verify.py" if bundle.is_dir() else unpacked(bundle) / "verify.py"
    return subprocess.run(
        [sys.executable, "-I", str(verifier), str(bundle), *args], capture_output=True, text=True, timeout=120,
        cwd=bundle.parent, env={"PATH": os.environ.get("PATH", "")},
    )


@pytest.fixture
def signed_history(ledger_key, tmp_path):
    """Three streams of four events, sealed and under a signed head published to a directory an auditor keeps."""
    write_history()
    assert verify_event_chain().new_seal is not None
    head = ledger.sign_tree_head()
    call_command("publish_tree_head", str(tmp_path / "kept"))
    return head, tmp_path / "kept" / "heads.jsonl"


def test_a_whole_ledger_bundle_verifies_offline(signed_history, tmp_path):
    head, kept = signed_history
    manifest = export_audit_bundle(tmp_path / "all.zip")
    assert (manifest["complete"], manifest["event_count"], manifest["stream_count"]) == (True, 12, 3)
    result = run_verifier(unpacked(tmp_path / "all.zip"), "--public-key", head.public_key, "--expect-head", str(kept))
    assert result.returncode == 0, result.stderr
    assert "OK: 12 events in 3 streams (the whole ledger)" in result.stdout
    assert run_verifier(tmp_path / "all.zip").returncode == 0  # the archive itself, unopened


def test_a_bundle_of_one_stream_proves_it_against_the_signed_heads(signed_history, tmp_path):
    head, kept = signed_history
    write_history()  # more events and a newer head, which must extend the kept one
    newer = ledger.sign_tree_head()
    export_audit_bundle(tmp_path / "one.zip", Selection(stream_id="payment-b"))
    bundle = unpacked(tmp_path / "one.zip")
    lines = (bundle / "events.jsonl").read_text().splitlines()
    assert [json.loads(line)["version"] for line in lines] == list(range(1, 9))
    assert json.loads((bundle / "head.json").read_text())["tree_size"] == newer.tree_size == 24
    result = run_verifier(bundle, "--expect-head", str(kept))
    assert result.returncode == 0, result.stderr
    assert "OK: 8 events in 1 streams (a selection of streams)" in result.stdout
    assert "extends 1 kept heads" in result.stdout


@pytest.mark.parametrize("case", sorted(HISTORY_TAMPERING))
def test_tampering_after_a_head_was_published_fails_offline_and_against_the_kept_head(signed_history, tmp_path,
                                                                                       tamper, case, capsys):
    _, kept = signed_history
    tamper(*HISTORY_TAMPERING[case])
    export_audit_bundle(tmp_path / "all.zip")
    result = run_verifier(unpacked(tmp_path / "all.zip"), "--expect-head", str(kept))
    assert result.returncode == 1, result.stdout
    assert "FAILED" in result.stderr
    with pytest.raises(Exception, match="TAMPERING DETECTED"):
        call_command("verify_event_chain", "--no-progress", "--no-seal", "--expect-head", str(kept))


def test_a_rewrite_with_every_hash_head_and_seal_recomputed_fails_against_the_kept_head(signed_history, tamper,
                                                                                       tmp_path):
    """A superuser empties the store and records another history through the real functions, signed
    with the real key: everything inside the database is consistent again; only the kept head knows."""
    _, kept = signed_history
    tamper(*(f"DELETE FROM {table}" for table in (
        "eventstore_event", "eventstore_stream", "eventstore_seal", "eventstore_chainverification",
        "eventstore_ledgerentry", "eventstore_ledgernode", "eventstore_ledgerstream", "eventstore_ledgerstreamnode",
        "eventstore_treehead", "eventstore_publishedhead")))  # signing refuses to fork it
    write_history()
    write_history()
    ledger.sign_tree_head()
    call_command("verify_event_chain", "--no-progress", "--no-seal")  # the database alone sees nothing wrong
    with pytest.raises(Exception, match="TAMPERING DETECTED"):
        call_command("verify_event_chain", "--no-progress", "--no-seal", "--expect-head", str(kept))
    export_audit_bundle(tmp_path / "rewritten.zip")
    result = run_verifier(unpacked(tmp_path / "rewritten.zip"), "--expect-head", str(kept))
    assert result.returncode == 1 and "does not extend it" in result.stderr


@pytest.mark.parametrize("name", ["events.jsonl", "proofs.jsonl", "head.json", "streams.jsonl"])
def test_a_bundle_edited_by_one_byte_fails(signed_history, tmp_path, name):
    export_audit_bundle(tmp_path / "one.zip", Selection(stream_id="payment-a"))
    bundle = unpacked(tmp_path / "one.zip")
    content = bytearray((bundle / name).read_bytes())
    for offset in range(0, len(content), max(1, len(content) // 25)):  # a byte edited here and there, one at a time
        original = content[offset]
        content[offset] = ord("7") if chr(original) in "0123456789abcdef" and original != ord("7") else \
            (ord("x") if original != ord("x") else ord("y"))
        (bundle / name).write_bytes(bytes(content))
        assert run_verifier(bundle).returncode == 1, (name, offset, chr(original))
        content[offset] = original
    (bundle / name).write_bytes(bytes(content))
    assert run_verifier(bundle).returncode == 0


def test_a_head_signed_by_another_key_fails(signed_history, tmp_path):
    head, _ = signed_history
    export_audit_bundle(tmp_path / "one.zip", Selection(stream_id="payment-a"))
    bundle = unpacked(tmp_path / "one.zip")
    document = json.loads((bundle / "head.json").read_text())
    other = Ed25519PrivateKey.generate()
    message = head_message(tree_size=head.tree_size, timestamp=head.timestamp, root_hash=head.root_hash,
                           streams_root=head.streams_root)
    document["signature"] = other.sign(message).hex()
    (bundle / "head.json").write_text(json.dumps(document))
    result = run_verifier(bundle)
    assert result.returncode == 1 and "signature does not verify" in result.stderr
    assert "not by the expected" in run_verifier(unpacked(tmp_path / "one.zip"), "--public-key", "ab" * 32).stderr


def test_the_verifier_needs_only_the_standard_library_and_cryptography():
    source = Path(ledger.__file__).with_name("verifier.py").read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"cryptography"}


def test_export_command_draws_progress_and_refuses_without_a_head(ledger_key, tmp_path, capsys):
    write_history()
    with pytest.raises(Exception, match="no tree head is signed yet"):
        call_command("export_audit_bundle", str(tmp_path / "none.zip"), "--no-progress")
    ledger.sign_tree_head()
    call_command("export_audit_bundle", str(tmp_path / "org.zip"), "--from", "2000-01-01")
    captured = capsys.readouterr()
    assert "Wrote" in captured.out and "event" in captured.err
    assert run_verifier(tmp_path / "org.zip").returncode == 0


@pytest.mark.parametrize("case", sorted(SEAL_ONLY))
def test_tampering_with_seals_alone_still_fails_verify_event_chain_with_the_kept_head(signed_history, tamper, case):
    """Seals are the database's own record, not part of the log a bundle proves: the events are
    intact and a bundle still verifies, while verify_event_chain, given the kept head and the kept
    seal hash, reports the seals."""
    _, kept = signed_history
    seal = Seal.objects.get().hash
    tamper(*TAMPERING[case])
    with pytest.raises(Exception, match="TAMPERING DETECTED"):
        call_command("verify_event_chain", "--no-progress", "--no-seal", "--expect-head", str(kept),
                     "--expect-seal", seal)


def test_a_kept_head_signed_by_another_key_fails_verify_event_chain(signed_history, tmp_path):
    head, _ = signed_history
    forged = ledger.head_document(head)
    forged["signature"] = Ed25519PrivateKey.generate().sign(head_message(
        tree_size=head.tree_size, timestamp=head.timestamp, root_hash=head.root_hash,
        streams_root=head.streams_root)).hex()
    kept = tmp_path / "forged.jsonl"
    kept.write_text(json.dumps(forged) + "\n")
    with pytest.raises(Exception, match="TAMPERING DETECTED"):
        call_command("verify_event_chain", "--no-progress", "--no-seal", "--expect-head", str(kept))


def test_publishing_posts_the_head_to_a_witness_and_refuses_an_unreachable_one(signed_history):
    head, _ = signed_history
    received = []

    class Witness(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Witness)
    threading.Thread(target=server.handle_request, daemon=True).start()
    try:
        call_command("publish_tree_head", f"http://127.0.0.1:{server.server_port}/heads")
    finally:
        server.server_close()
    assert received == [ledger.head_document(head)]
    with pytest.raises(CommandError, match="did not take the head"):
        call_command("publish_tree_head", f"http://127.0.0.1:{server.server_port}/heads")


def test_an_organizations_bundle_holds_its_streams_whole_and_nothing_else(ledger_key, tmp_path):
    for stream_id, organization in (("payment-x", "org-x"), ("payment-y", "org-y"), ("payment-x2", "org-x")):
        append_events(stream_id=stream_id, aggregate_type="Payment", expected_version=ANY, events=[
            NewEvent("PaymentProcessed", payment_data("PaymentProcessed", "1.00", stream_id),
                     {"correlation_id": "c", "organization_id": organization})])
    ledger.sign_tree_head()
    call_command("export_audit_bundle", str(tmp_path / "x.zip"), "--organization", "org-x", "--no-progress")
    bundle = unpacked(tmp_path / "x.zip")
    streams = sorted(json.loads(line)["stream_id"] for line in (bundle / "events.jsonl").read_text().splitlines())
    assert streams == ["payment-x", "payment-x2"]
    assert run_verifier(bundle).returncode == 0
    with pytest.raises(CommandError, match="no stream matches"):
        call_command("export_audit_bundle", str(tmp_path / "z.zip"), "--organization", "org-z", "--no-progress")


def test_events_whose_text_looks_like_an_events_tail_verify_and_a_line_that_is_not_json_is_named(ledger_key,
                                                                                                   tmp_path):
    """The verifier reads each line's last fields from its last `,"position":`: a stream id and data
    holding that text, quotes, escapes and other scripts change nothing; a line that is no event at
    all is reported by its number."""
    awkward = 'note-"q",\\"position\\":1,"version":2}'
    data = {"note": 'ü\n"position":7,', "nested": [{"position": 1, "version": 2, "stream_id": "x"}]}
    for stream_id in (awkward, "note-plain"):
        append_events(stream_id=stream_id, aggregate_type="Note", expected_version=ANY,
                      events=[NewEvent("NoteTaken", data, {"position": 3}) for _ in range(3)])
    ledger.sign_tree_head()
    export_audit_bundle(tmp_path / "all.zip")
    bundle = unpacked(tmp_path / "all.zip")
    result = run_verifier(bundle)
    assert result.returncode == 0, result.stderr
    assert "OK: 6 events in 2 streams (the whole ledger)" in result.stdout
    lines = (bundle / "events.jsonl").read_bytes().splitlines(keepends=True)
    lines[3] = b'{"aggregate_type": not json\n'
    (bundle / "events.jsonl").write_bytes(b"".join(lines))
    result = run_verifier(bundle)
    assert result.returncode == 1
    assert "events.jsonl line 4: not JSON" in result.stderr
    assert "1 of them are missing" in result.stderr


def documented_json(value: dict) -> bytes:
    """Compact, key-sorted JSON, UTF-8 as is: the README's encoding of events and stream entries."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def jsonl(bundle: Path, name: str) -> list[dict]:
    return [json.loads(line) for line in (bundle / name).read_bytes().splitlines()]


def write_jsonl(bundle: Path, name: str, values: list[dict]) -> None:
    (bundle / name).write_bytes(b"".join(documented_json(value) + b"\n" for value in values))


def relink_and_recompute_everything_else(bundle: Path, stream_id: str, version: int, links_to: int) -> None:
    """In a whole-ledger bundle, make `stream_id` v`version` name the hash of v`links_to` as its prev_hash,
    then recompute what depends on it as its writer would: the event's hash (the SHA-256 of its new
    line), the tree's root from every leaf, the stream's entry and the streams_root, and the head,
    signed again by a key of its own, which the chain of keys starts at. Only the link is left broken."""
    events = jsonl(bundle, "events.jsonl")
    assert documented_json(events[0]) == (bundle / "events.jsonl").read_bytes().splitlines()[0], "lines re-encode as is"
    place = {(event["stream_id"], event["version"]): number for number, event in enumerate(events)}
    hashes = [hashlib.sha256(documented_json(event)).hexdigest() for event in events]
    forged = place[stream_id, version]
    events[forged]["prev_hash"] = hashes[place[stream_id, links_to]]
    hashes[forged] = hashlib.sha256(documented_json(events[forged])).hexdigest()
    write_jsonl(bundle, "events.jsonl", events)

    indexes = [proof["ledger_index"] for proof in jsonl(bundle, "proofs.jsonl")]
    leaves = [bytes.fromhex(digest) for _, digest in sorted(zip(indexes, hashes))]
    entries = sorted(jsonl(bundle, "streams.jsonl"), key=lambda entry: entry["index"])
    for entry in entries:
        if entry["stream_id"] == stream_id:
            assert entry["version"] == version, "the forged event is its stream's newest: no later link to mend"
            entry["head_hash"] = hashes[forged]
    write_jsonl(bundle, "streams.jsonl", entries)
    stream_leaves = [documented_json({key: entry[key] for key in ("head_hash", "stream_id", "version")})
                     for entry in entries]

    head = json.loads((bundle / "head.json").read_text())
    head.update(root_hash=reference.mth(leaves).hex(), streams_root=reference.mth(stream_leaves).hex())
    head = signed_with(Ed25519PrivateKey.generate(), head)
    (bundle / "head.json").write_text(json.dumps(head))
    (bundle / "public_key.txt").write_text(head["public_key"] + "\n")
    (bundle / "keys.json").write_text(json.dumps({"first_public_key": head["public_key"], "statements": []}))


def test_a_broken_link_is_reported_even_when_the_tree_and_head_were_recomputed_over_it(signed_history, tmp_path):
    """Editing a bundle cannot break a stream's prev_hash link and keep the tree's root: an event's
    leaf is its hash, which the verifier recomputes from the event's line, and that line holds its
    prev_hash, so a changed link changes the leaf and the root (short of a SHA-256 second preimage).
    The link check stays all the same, as defence in depth: the root proves only that the events are
    those the head was signed over, not that they were chained when it was signed. History written
    behind the store's back before the ledger took it, or a signer holding the key who recomputes
    the tree, leaves a root and head that agree with a broken chain, and only the link check sees it
    (a kept head would see the second case too; none is given here). This bundle is such a case:
    its leaves, roots and head are recomputed over one wrong link, and that link is the only problem."""
    export_audit_bundle(tmp_path / "all.zip")
    bundle = unpacked(tmp_path / "all.zip")
    relink_and_recompute_everything_else(bundle, "payment-b", version=4, links_to=2)

    result = run_verifier(bundle)

    assert result.returncode == 1, result.stdout
    assert "FAILED: 1 problems" in result.stderr, result.stderr
    assert "payment-b v4: does not link to the event before it" in result.stderr
