"""The streams root a signer folds from the leaves the ledger keeps per stream equals the root
recomputed from every event, whatever the streams, their names and the ledger's steps."""

import random

import pytest

from eventstore.events import ANY
from eventstore.ledger import service as ledger
from eventstore.store import append_events
from tests.eventstore.helpers import payment_events

pytestmark = pytest.mark.django_db(transaction=True)

NAMES = ["payment-", "Payment-", "payment-ü-", 'payment-"q"-', "payment-\\-", "z-", "a-東京-", "payment-😀-"]


def full_recomputation(size: int) -> bytes:
    return ledger.streams_tree(ledger.streams_at(size)).root()


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
        assert root == full_recomputation(size)


def test_a_signed_head_carries_the_full_recomputation(ledger_key):
    for index in range(9):
        append_events(stream_id=f"payment-{index % 4}", aggregate_type="Payment", events=payment_events(1),
                      expected_version=ANY)
        if index % 3 == 2:
            head = ledger.sign_tree_head()
            assert head.streams_root == full_recomputation(head.tree_size).hex()
