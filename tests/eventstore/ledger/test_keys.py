"""Key rotation: a statement signed by the current key hands signing to the next one after the newest
head; the database then takes heads from the next key only, and the audit bundle's verifier follows
the chain from the first key, checks each head with the key of its size and refuses a head signed by
a retired key after its retirement, or a statement the retired key did not sign."""

import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from eventstore.encoding import timestamp_text
from eventstore.ledger import keys
from eventstore.ledger import service as ledger
from eventstore.ledger.bundle import export_audit_bundle
from eventstore.ledger.signing import head_message, key_id, load_private_key
from eventstore.ledger.verifier import statement_message
from tests.eventstore.integrity.test_verification import write_history
from tests.eventstore.ledger.head_format import signed_with
from tests.eventstore.ledger.test_bundle import run_verifier, unpacked

pytestmark = pytest.mark.django_db(transaction=True)


def key_file(directory, name: str) -> tuple[Ed25519PrivateKey, str]:
    """A new key written as 64 hex digits to `directory/name`: the key and the file's path."""
    key = Ed25519PrivateKey.generate()
    path = directory / name
    path.write_text(key.private_bytes_raw().hex() + "\n")
    return key, str(path)


def public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes_raw().hex()


@pytest.fixture
def rotated(ledger_key, settings, tmp_path):
    """A head by the first key (published), a rotation, then a head by the next key: (first key,
    next key, the first head, the second head, the kept heads' file)."""
    first = load_private_key(ledger_key)
    write_history()
    first_head = ledger.sign_tree_head()
    call_command("publish_tree_head", str(tmp_path / "kept"))
    following, path = key_file(tmp_path, "next.key")
    call_command("rotate_signing_key", "--new-key-file", path)
    settings.LEDGER_SIGNING_KEY, settings.LEDGER_SIGNING_KEY_FILE = "", path
    write_history()
    second_head = ledger.sign_tree_head()
    return first, following, first_head, second_head, tmp_path / "kept" / "heads.jsonl"


def test_heads_signed_by_both_keys_verify_offline_from_the_first_key(rotated, tmp_path):
    first, following, first_head, second_head, kept = rotated
    assert (first_head.public_key, second_head.public_key) == (public_hex(first), public_hex(following))
    export_audit_bundle(tmp_path / "all.zip")
    bundle = unpacked(tmp_path / "all.zip")
    assert [line["tree_size"] for line in map(json.loads, (bundle / "heads.jsonl").read_text().splitlines())] == [12]

    result = run_verifier(bundle, "--public-key", public_hex(first), "--expect-head", str(kept))
    assert result.returncode == 0, result.stderr
    assert "OK: 24 events in 3 streams (the whole ledger)" in result.stdout
    assert "the chain of keys holds 2" in result.stdout and "extends 1 kept heads" in result.stdout
    call_command("verify_event_chain", "--no-progress", "--no-seal", "--expect-head", str(kept))


def test_a_head_forged_with_the_retired_key_after_its_retirement_is_refused_offline(rotated, tmp_path):
    first, _, _, second_head, _ = rotated
    export_audit_bundle(tmp_path / "all.zip")
    bundle = unpacked(tmp_path / "all.zip")
    genuine = json.loads((bundle / "head.json").read_text())
    (bundle / "head.json").write_text(json.dumps(signed_with(first, genuine)))

    result = run_verifier(bundle)
    assert result.returncode == 1
    assert f"head.json: signed by key {key_id(public_hex(first))} after its retirement at size 12" in result.stderr

    kept = tmp_path / "forged.jsonl"  # the same forgery offered as a head someone kept
    kept.write_text(json.dumps(signed_with(first, genuine)) + "\n")
    result = run_verifier(unpacked(tmp_path / "all.zip"), "--expect-head", str(kept))
    assert result.returncode == 1 and "kept head: the head of size 24: signed by key" in result.stderr
    with pytest.raises(CommandError, match="TAMPERING DETECTED"):
        call_command("verify_event_chain", "--no-progress", "--no-seal", "--expect-head", str(kept))


def test_a_key_statement_not_signed_by_the_key_it_retires_is_refused_offline(rotated, tmp_path):
    """Someone holding only a key of their own hands signing to it and signs the newest head with it."""
    _, _, _, second_head, _ = rotated
    export_audit_bundle(tmp_path / "all.zip")
    bundle = unpacked(tmp_path / "all.zip")
    chain = json.loads((bundle / "keys.json").read_text())
    intruder = Ed25519PrivateKey.generate()
    statement = {**chain["statements"][0], "next_public_key": public_hex(intruder)}
    statement["signature"] = intruder.sign(statement_message(statement)).hex()
    (bundle / "keys.json").write_text(json.dumps({**chain, "statements": [statement]}))
    (bundle / "head.json").write_text(json.dumps(signed_with(intruder, json.loads((bundle / "head.json").read_text()))))

    result = run_verifier(bundle)
    assert result.returncode == 1
    assert "keys.json statement 1: it is not signed by the key it retires" in result.stderr
    assert f"head.json: signed by key {public_hex(intruder)}, not by the key of its size" in result.stderr


def test_the_retired_key_signs_nothing_more_in_the_database(rotated, settings):
    first, _, _, second_head, _ = rotated
    settings.LEDGER_SIGNING_KEY, settings.LEDGER_SIGNING_KEY_FILE = first.private_bytes_raw().hex(), ""
    write_history()
    with pytest.raises(keys.SigningKeyRetired, match="is not the current key"):
        ledger.sign_tree_head()
    with pytest.raises(CommandError, match="is not the current key"):
        call_command("sign_tree_head")

    size, timestamp = ledger.extend_ledger(), datetime.now(UTC)  # past the service, straight to the database
    root_hash, streams_root = ledger.root_at(size).hex(), ledger.streams_tree(ledger.streams_at(size)).root().hex()
    signature = first.sign(head_message(tree_size=size, timestamp=timestamp, root_hash=root_hash,
                                        streams_root=streams_root)).hex()
    with pytest.raises(DatabaseError, match="the current signing key is"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("SELECT eventstore_record_tree_head(%s, %s, %s, %s, %s, %s)",
                       [size, timestamp, root_hash, streams_root, signature, public_hex(first)])
    assert ledger.latest_head().tree_size == second_head.tree_size


def test_only_the_current_key_rotates_and_only_to_a_key_never_used(rotated, settings, tmp_path):
    first, following, _, _, _ = rotated
    _, fresh = key_file(tmp_path, "fresh.key")
    settings.LEDGER_SIGNING_KEY = first.private_bytes_raw().hex()
    with pytest.raises(CommandError, match="only the current key may hand signing over"):
        call_command("rotate_signing_key", "--new-key-file", fresh)
    settings.LEDGER_SIGNING_KEY = following.private_bytes_raw().hex()
    (tmp_path / "first.key").write_text(first.private_bytes_raw().hex())
    with pytest.raises(CommandError, match="signed before: give a new key"):
        call_command("rotate_signing_key", "--new-key-file", str(tmp_path / "first.key"))
    with pytest.raises(DatabaseError, match="only the current key"), transaction.atomic(), \
            connection.cursor() as cursor:  # the database refuses it too
        cursor.execute("SELECT eventstore_record_key_statement(%s, %s, %s, %s, %s)",
                       [24, datetime.now(UTC), public_hex(first), public_hex(Ed25519PrivateKey.generate()), "0" * 128])


def test_a_retired_key_with_no_successor_ends_signing_and_bundles_still_verify(rotated, tmp_path):
    _, following, _, second_head, kept = rotated
    call_command("rotate_signing_key", "--retire")
    write_history()
    with pytest.raises(keys.SigningKeyRetired, match="retired with no successor"):
        ledger.sign_tree_head()
    periods = keys.key_periods()
    assert [(p.valid_from_tree_size, p.valid_until_tree_size) for p in periods] == [(1, 12), (13, 24)]

    export_audit_bundle(tmp_path / "all.zip")
    result = run_verifier(unpacked(tmp_path / "all.zip"), "--expect-head", str(kept))
    assert result.returncode == 0, result.stderr


def test_heads_signed_before_rotation_existed_keep_verifying_with_their_derived_key_id(ledger_key, tmp_path):
    """A head as published before key ids (no `key_id` in its document) is still a kept head the
    bundle's head extends; its key id is the SHA-256 of the public key it was stored with."""
    write_history()
    head = ledger.sign_tree_head()
    old_document = {field: value for field, value in ledger.head_document(head).items() if field != "key_id"}
    kept = tmp_path / "heads.jsonl"
    kept.write_text(json.dumps(old_document) + "\n")
    write_history()
    ledger.sign_tree_head()

    assert head.key_id == key_id(head.public_key) == ledger.head_document(head)["key_id"]
    assert [period.public_key for period in keys.key_periods()] == [head.public_key]
    export_audit_bundle(tmp_path / "all.zip")
    result = run_verifier(unpacked(tmp_path / "all.zip"), "--public-key", head.public_key, "--expect-head", str(kept))
    assert result.returncode == 0, result.stderr
    assert timestamp_text(head.timestamp) == old_document["timestamp"]
