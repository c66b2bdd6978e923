"""A tree head's signature checked the way an outside auditor would: the signed bytes built from the
README's byte format alone, the signature verified with `cryptography` directly."""

import re

import pytest

from eventstore.events import ANY
from eventstore.ledger import service as ledger
from eventstore.store import append_events
from tests.eventstore.helpers import payment_events
from tests.eventstore.ledger.head_format import signature_covers_documented_message

pytestmark = pytest.mark.django_db(transaction=True)

UTC_WITH_MICROSECONDS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00"


def flipped_last_digit(hex_text: str) -> str:
    return hex_text[:-1] + ("0" if hex_text[-1] != "0" else "1")


def test_a_signed_head_verifies_over_its_documented_bytes_and_covers_its_streams_root(ledger_key, api_client_for):
    for stream_id, count in (("payment-a", 2), ("payment-b", 1)):
        append_events(stream_id=stream_id, aggregate_type="Payment", events=payment_events(count, payment_id=stream_id),
                      expected_version=ANY)
    ledger.sign_tree_head()
    auditor = api_client_for("auditor", "org-1")
    head = auditor.get("/api/ledger/heads/latest/").json()
    public_key = auditor.get("/api/ledger/public-key/").json()["public_key"]
    assert head["public_key"] == public_key and head["tree_size"] == 3
    assert re.fullmatch(UTC_WITH_MICROSECONDS, head["timestamp"])

    assert signature_covers_documented_message(head, public_key), "the signature is not over the documented bytes"
    altered = {**head, "streams_root": flipped_last_digit(head["streams_root"])}
    assert not signature_covers_documented_message(altered, public_key), "the signature does not cover streams_root"
