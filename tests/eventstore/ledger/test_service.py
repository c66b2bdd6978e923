"""The ledger: every visible event a leaf, in the order read_all delivers them, proofs that an
independent reading of RFC 9162 agrees with, and signed heads that only move forward."""

import threading

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import IntegrityError, connection

from eventstore.events import ANY
from eventstore.ledger import service as ledger
from eventstore.ledger.models import LedgerEntry, TreeHead
from eventstore.ledger.signing import head_message
from eventstore.selectors import follow_all
from eventstore.store import append_events
from tests.eventstore import merkle_reference as reference
from tests.eventstore.helpers import payment_events

pytestmark = pytest.mark.django_db(transaction=True)


def append(stream_id: str, count: int = 1) -> None:
    append_events(stream_id=stream_id, aggregate_type="Payment", events=payment_events(count), expected_version=ANY)


def leaf_data_in_read_all_order() -> list[bytes]:
    return [bytes.fromhex(event.hash) for event in follow_all()]


def test_indexes_follow_read_all_and_are_dense():
    for index in range(7):
        append(f"payment-{index % 3}", count=index % 2 + 1)
    assert ledger.extend_ledger(batch=4) == 10
    entries = list(LedgerEntry.objects.order_by("ledger_index").values_list("ledger_index", "position"))
    assert [index for index, _ in entries] == list(range(10))
    assert [position for _, position in entries] == [event.position for event in follow_all()]
    assert ledger.extend_ledger() == 10  # nothing new: nothing changes


def test_roots_and_proofs_from_stored_nodes_match_the_reference():
    for index in range(13):
        append(f"payment-{index % 4}")
    size = ledger.extend_ledger(batch=5)
    leaves = leaf_data_in_read_all_order()
    for tree_size in range(1, size + 1):
        assert ledger.root_at(tree_size) == reference.mth(leaves[:tree_size])
        proofs = ledger.inclusion_proofs(range(tree_size), tree_size)
        assert proofs == {index: reference.path(index, leaves[:tree_size]) for index in range(tree_size)}
        for first in range(1, tree_size):
            assert ledger.consistency_proof(first, tree_size) == reference.proof(first, leaves[:tree_size])


def test_a_signed_head_verifies_with_its_public_key_and_names_every_stream(ledger_key):
    append("payment-a", 2)
    append("payment-b", 1)
    head = ledger.sign_tree_head()
    assert head.tree_size == 3
    message = head_message(tree_size=3, timestamp=head.timestamp, root_hash=head.root_hash,
                           streams_root=head.streams_root)
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(head.public_key)).verify(bytes.fromhex(head.signature), message)
    with pytest.raises(InvalidSignature):
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(head.public_key)).verify(
            bytes.fromhex(head.signature), message.replace(b'"tree_size":3', b'"tree_size":2'))
    streams = list(ledger.streams_at(3))
    assert [(entry.stream_id, entry.version) for entry in streams] == [("payment-a", 2), ("payment-b", 1)]
    assert head.streams_root == reference.mth([entry.leaf_data() for entry in streams]).hex()
    assert ledger.sign_tree_head() is None  # nothing new


def test_the_database_refuses_a_head_whose_root_is_not_the_trees(ledger_key):
    append("payment-a", 2)
    ledger.extend_ledger()
    with pytest.raises(IntegrityError, match="not the ledger's root"), connection.cursor() as cursor:
        cursor.execute("SELECT eventstore_record_tree_head(2, now(), %s, %s, %s, %s)",
                       ["ab" * 32, "cd" * 32, "ef" * 64, "01" * 32])
    assert not TreeHead.objects.exists()


@pytest.mark.parametrize("statement", [
    "UPDATE eventstore_ledgerentry SET position = position + 1",
    "DELETE FROM eventstore_ledgernode",
    "TRUNCATE eventstore_treehead",
    "TRUNCATE eventstore_keystatement",
])
def test_ledger_rows_and_heads_are_append_only(ledger_key, statement):
    append("payment-a", 2)
    ledger.sign_tree_head()
    with pytest.raises(Exception, match="append-only"), connection.cursor() as cursor:
        cursor.execute(statement)


@pytest.mark.timeout(300)
def test_heads_signed_while_writers_append_never_skip_or_reorder(ledger_key):
    stop = threading.Event()
    errors = []

    def writer(number: int) -> None:
        try:
            for index in range(40):
                append(f"payment-w{number}-{index % 5}")
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    writers = [threading.Thread(target=writer, args=(number,)) for number in range(4)]
    for thread in writers:
        thread.start()
    heads = []
    while any(thread.is_alive() for thread in writers) or not stop.is_set():
        head = ledger.sign_tree_head()
        if head is not None:
            heads.append(head)
        if not any(thread.is_alive() for thread in writers):
            stop.set()
    for thread in writers:
        thread.join()
    assert not errors
    final = ledger.sign_tree_head()
    heads += [final] if final else []
    leaves = leaf_data_in_read_all_order()
    assert len(leaves) == 160 == ledger.ledger_size()
    assert [head.tree_size for head in heads] == sorted({head.tree_size for head in heads})
    for head in heads:  # each head's root is the root of read_all's first tree_size events
        assert head.root_hash == reference.mth(leaves[:head.tree_size]).hex()
