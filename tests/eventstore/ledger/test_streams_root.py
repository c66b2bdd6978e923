"""The streams root a signer folds from the stored streams tree equals the root recomputed from every
event, whatever the streams, their names, their number and the ledger's steps; each stream keeps the
place it took when it first entered the ledger; heads signed in the former stream id order still
verify; an altered stored streams tree is caught; the migration builds the tree of a populated store."""

import random
from datetime import UTC, datetime

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.db.migrations import RunPython

from eventstore.events import ANY
from eventstore.integrity.verification import verify_event_chain
from eventstore.ledger import service as ledger
from eventstore.ledger.bundle import Selection, export_audit_bundle
from eventstore.ledger.models import LedgerEntry, LedgerStream, TreeHead
from eventstore.ledger.signing import head_message, public_key_hex, signing_key
from eventstore.models import Event
from eventstore.store import append_events
from tests.eventstore import merkle_reference as reference
from tests.eventstore.helpers import payment_events
from tests.eventstore.ledger.test_bundle import run_verifier, unpacked
from tests.migration_operations import migration_operation

pytestmark = pytest.mark.django_db(transaction=True)

NAMES = ["payment-", "Payment-", "payment-ü-", 'payment-"q"-', "payment-\\-", "z-", "a-東京-", "payment-😀-"]
AROUND_POWERS_OF_TWO = {1, 2, 3, 4, 5, 7, 8, 9, 16, 17}


def full_recomputation(size: int) -> bytes:
    return ledger.streams_tree(ledger.streams_at(size)).root()


def streams_by_first_leaf(size: int) -> list[tuple[str, int, str]]:
    """(stream id, newest version, its hash) of each stream among the first `size` leaves, in the order of
    their first leaf: walked here leaf by leaf, apart from the SQL that keeps and recomputes the tree."""
    events = {event.position: event for event in Event.objects.all()}
    newest: dict[str, tuple[int, str]] = {}
    for entry in LedgerEntry.objects.filter(ledger_index__lt=size).order_by("ledger_index"):
        event = events[entry.position]
        if event.version > newest.get(event.stream_id, (0, ""))[0]:
            newest[event.stream_id] = (event.version, event.hash)  # a dict keeps the first insertion's place
    return [(stream_id, version, head_hash) for stream_id, (version, head_hash) in newest.items()]


def reference_root(size: int) -> bytes:
    return reference.mth([ledger.StreamEntry(*entry).leaf_data() for entry in streams_by_first_leaf(size)])


def test_the_stored_streams_root_equals_the_full_recomputation_on_random_histories():
    chooser = random.Random(7)
    streams = [f"{chooser.choice(NAMES)}{chooser.randrange(1000)}" for _ in range(16)]
    for _ in range(12):
        for _ in range(chooser.randint(1, 8)):
            append_events(stream_id=chooser.choice(streams), aggregate_type="Payment",
                          events=payment_events(chooser.randint(1, 3)), expected_version=ANY)
        ledger.extend_ledger(batch=chooser.randint(1, 7))
        size, root = ledger.stored_streams_root()
        assert size == ledger.ledger_size()
        assert root == full_recomputation(size) == reference_root(size)


def test_streams_keep_their_first_place_and_the_root_holds_around_powers_of_two():
    """Streams join one at a time while others move, in batches that split a stream's events: after
    every extension each stream sits where it first entered the ledger, and the stored root is the
    reference's over the streams in that order, at every stream count around a power of two."""
    chooser = random.Random(11)
    names = [f"{chooser.choice(NAMES)}{index}" for index in range(18)]
    counts_seen = set()
    for joining in names:
        append_events(stream_id=joining, aggregate_type="Payment", events=payment_events(chooser.randint(1, 3)),
                      expected_version=ANY)
        for moving in chooser.sample(names[:names.index(joining) + 1], k=min(2, names.index(joining) + 1)):
            append_events(stream_id=moving, aggregate_type="Payment", events=payment_events(chooser.randint(1, 3)),
                          expected_version=ANY)
        ledger.extend_ledger(batch=chooser.randint(1, 5))
        size, root = ledger.stored_streams_root()
        in_order = streams_by_first_leaf(size)
        assert list(LedgerStream.objects.order_by("leaf_index").values_list("stream_id", "version")) == [
            (stream_id, version) for stream_id, version, _ in in_order]
        assert root == reference_root(size) == full_recomputation(size)
        counts_seen.add(len(in_order))
    ledger.extend_ledger()
    assert ledger.stored_streams_root()[1] == reference_root(ledger.ledger_size())
    assert AROUND_POWERS_OF_TWO <= counts_seen


def test_a_signed_head_carries_the_full_recomputation(ledger_key):
    for index in range(9):
        append_events(stream_id=f"payment-{index % 4}", aggregate_type="Payment", events=payment_events(1),
                      expected_version=ANY)
        if index % 3 == 2:
            head = ledger.sign_tree_head()
            assert head.streams_root == full_recomputation(head.tree_size).hex()
            assert head.streams_order == TreeHead.FIRST_IN_LEDGER_ORDER


def later_names_first():
    """Streams that enter the ledger in the reverse of their ids' order: the two orders' roots differ."""
    for stream_id in ("payment-z", "payment-m", "payment-a"):
        append_events(stream_id=stream_id, aggregate_type="Payment", events=payment_events(2), expected_version=ANY)
    append_events(stream_id="payment-z", aggregate_type="Payment", events=payment_events(1), expected_version=ANY)


def test_a_bundle_under_a_head_signed_in_stream_id_order_still_verifies(ledger_key, tmp_path):
    later_names_first()
    size = ledger.extend_ledger()
    by_id = ledger.streams_tree(ledger.streams_at(size, TreeHead.STREAM_ID_ORDER)).root().hex()
    assert by_id != full_recomputation(size).hex()
    key, timestamp, root_hash = signing_key(), datetime.now(UTC), ledger.root_at(size).hex()
    TreeHead.objects.create(  # as heads were signed before streams kept their place
        tree_size=size, timestamp=timestamp, root_hash=root_hash, streams_root=by_id,
        streams_order=TreeHead.STREAM_ID_ORDER, public_key=public_key_hex(key),
        signature=key.sign(head_message(tree_size=size, timestamp=timestamp, root_hash=root_hash,
                                        streams_root=by_id)).hex())

    export_audit_bundle(tmp_path / "all.zip")
    export_audit_bundle(tmp_path / "one.zip", Selection(stream_id="payment-m"))

    for archive in ("all.zip", "one.zip"):
        result = run_verifier(unpacked(tmp_path / archive))
        assert result.returncode == 0, result.stderr
    append_events(stream_id="payment-b", aggregate_type="Payment", events=payment_events(1), expected_version=ANY)
    newer = ledger.sign_tree_head()  # the next head is in the order of first leaves, and so is its bundle
    assert newer.streams_order == TreeHead.FIRST_IN_LEDGER_ORDER
    export_audit_bundle(tmp_path / "newer.zip")
    assert run_verifier(unpacked(tmp_path / "newer.zip")).returncode == 0


@pytest.mark.parametrize("tampering", [
    ["UPDATE eventstore_ledgerstreamnode SET hash = sha256(hash) WHERE level = 1 AND index = 0"],
    ["DELETE FROM eventstore_ledgerstreamnode WHERE level = 1 AND index = 0"],
    [f"UPDATE eventstore_ledgerstream SET leaf_index = {new} WHERE leaf_index = {old}" for old, new in
     ((0, -1), (2, 0), (-1, 2))],
    ["UPDATE eventstore_ledgerstream SET leaf_hash = sha256(leaf_hash) WHERE leaf_index = 2"],
], ids=["altered subtree", "removed subtree", "swapped places", "altered leaf"])
def test_an_altered_stored_streams_tree_is_caught_by_the_full_pass(tamper, tampering):
    later_names_first()
    ledger.extend_ledger()
    assert verify_event_chain(seal=False).ok

    tamper(*tampering)

    report = verify_event_chain(seal=False)
    assert not report.ok
    assert any("the streams tree's" in str(problem) for problem in report.problems), report.problems


def test_the_migration_places_the_streams_of_a_populated_store_and_builds_their_tree(tamper):
    later_names_first()
    for stream_id in ("payment-b", "payment-y", "payment-c", "payment-x", "payment-d"):
        append_events(stream_id=stream_id, aggregate_type="Payment", events=payment_events(1), expected_version=ANY)
    size = ledger.extend_ledger(batch=4)
    root = ledger.stored_streams_root()[1]
    tamper("UPDATE eventstore_ledgerstream SET leaf_index = -1 - leaf_index",  # as before: no place, no tree
           "DELETE FROM eventstore_ledgerstreamnode")
    place_streams = migration_operation("eventstore", "streams_keep_their_place", RunPython).code

    with connection.schema_editor() as editor:
        place_streams(django_apps, editor)

    assert list(LedgerStream.objects.order_by("leaf_index").values_list("stream_id", flat=True)) == [
        stream_id for stream_id, _, _ in streams_by_first_leaf(size)]
    assert ledger.stored_streams_root() == (size, root)
    assert ledger.streams_tree_problems() == []
