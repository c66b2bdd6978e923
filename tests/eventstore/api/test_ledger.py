"""The ledger's API: signed heads for any authenticated client, inclusion proofs of one's own events
only, every event with its hash, prev_hash and ledger index, and a clear 4xx for every bad input.
Proofs are checked with the auditors' verifier and an independent reading of RFC 9162."""

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command

from eventstore.encoding import timestamp_text
from eventstore.events import ANY, NewEvent
from eventstore.ledger import service as ledger
from eventstore.ledger import verifier as ledger_verifier
from eventstore.ledger.models import KeyStatement
from eventstore.ledger.signing import key_id
from eventstore.store import append_events
from tests.eventstore import merkle_reference as reference
from tests.eventstore.helpers import payment_data

pytestmark = pytest.mark.django_db(transaction=True)


def append(payment_id: str, organization: str) -> None:
    append_events(stream_id=payment_id, aggregate_type="Payment", expected_version=ANY, events=[NewEvent(
        "PaymentProcessed", payment_data("PaymentProcessed", "5.00", payment_id),
        {"correlation_id": f"corr-{payment_id}", "organization_id": organization})])


@pytest.fixture
def two_heads(ledger_key):
    for number in range(3):
        append(f"payment-a{number}", "org-a")
    first = ledger.sign_tree_head()
    for number in range(4):
        append(f"payment-b{number}", "org-b")
    append("payment-a-late", "org-a")  # not in any head yet
    ledger.extend_ledger()
    return first, ledger.sign_tree_head()


@pytest.fixture
def alice(api_client_for):
    return api_client_for("alice", "org-a")


def test_heads_newest_first_paged_and_verifiable(two_heads, alice):
    first, second = two_heads
    page = alice.get("/api/ledger/heads/?limit=1").json()
    assert [head["tree_size"] for head in page["results"]] == [8]
    rest = alice.get(page["next"]).json()
    assert [head["tree_size"] for head in rest["results"]] == [3] and rest["next"] is None
    latest = alice.get("/api/ledger/heads/latest/").json()
    assert latest == alice.get("/api/ledger/heads/8/").json()
    assert set(latest) == {"tree_size", "timestamp", "root_hash", "streams_root", "signature", "public_key", "key_id"}
    assert latest["timestamp"] == timestamp_text(second.timestamp)
    assert ledger_verifier.signature_ok(latest, alice.get("/api/ledger/public-key/").json()["public_key"])


def test_an_inclusion_proof_of_ones_own_event_leads_to_the_signed_root(two_heads, alice):
    event = next(e for e in alice.get("/api/events/?limit=100").json()["results"] if e["stream_id"] == "payment-a1")
    assert event["ledger_index"] == 1 and event["prev_hash"] == "0" * 64
    answer = alice.get(f"/api/events/{event['event_id']}/proof/?tree_size=3").json()
    assert (answer["leaf_index"], answer["tree_size"], answer["head"]["tree_size"]) == (1, 3, 3)
    leaf = ledger_verifier.leaf_hash(bytes.fromhex(event["hash"]))
    path = [bytes.fromhex(node) for node in answer["audit_path"]]
    assert ledger_verifier.verify_inclusion(1, 3, leaf, path, bytes.fromhex(answer["head"]["root_hash"]))
    newest = alice.get(f"/api/events/{event['event_id']}/proof/").json()
    assert newest["tree_size"] == 8
    leaves = [bytes.fromhex(e.hash) for e in ledger_verifier_order()]
    assert [bytes.fromhex(node) for node in newest["audit_path"]] == reference.path(1, leaves[:8])


def ledger_verifier_order():
    from eventstore.selectors import follow_all
    return list(follow_all())


def test_consistency_proofs_between_signed_sizes_verify(two_heads, alice):
    first, second = two_heads
    answer = alice.get("/api/ledger/consistency/?first=3&second=8").json()
    assert (answer["first"], answer["second"]) == (3, 8)
    assert ledger_verifier.verify_consistency(3, 8, bytes.fromhex(first.root_hash), bytes.fromhex(second.root_hash),
                                              [bytes.fromhex(node) for node in answer["consistency_path"]])


def test_an_event_has_no_proof_in_a_head_older_than_it(two_heads, alice):
    late = next(e for e in alice.get("/api/events/?limit=100").json()["results"] if e["stream_id"] == "payment-a-late")
    assert late["ledger_index"] == 7
    answer = alice.get(f"/api/events/{late['event_id']}/proof/?tree_size=3")
    assert answer.status_code == 404 and "not in this head" in answer.json()["error"]["message"]


@pytest.mark.parametrize("path, status", [
    ("/api/ledger/heads/99/", 404),
    ("/api/ledger/consistency/?first=5&second=3", 400),
    ("/api/ledger/consistency/?first=3&second=99", 404),
    ("/api/ledger/consistency/?first=x&second=3", 400),
    ("/api/ledger/consistency/?second=3", 400),
    ("/api/ledger/consistency/?first=0&second=3", 400),
    ("/api/events/00000000-0000-0000-0000-000000000000/proof/", 404),
    ("/api/events/not-a-uuid/proof/", 404),
])
def test_bad_inputs_get_a_clear_4xx(two_heads, alice, path, status):
    answer = alice.get(path)
    assert answer.status_code == status
    assert "error" in answer.json()


@pytest.mark.parametrize("query", ["", "?tree_size=99", "?tree_size=5", "?tree_size=abc"])
def test_another_organizations_event_is_not_found_whatever_the_query(two_heads, alice, query):
    from eventstore.models import Event
    other = Event.objects.filter(stream_id="payment-b0").get()
    answer = alice.get(f"/api/events/{other.event_id}/proof/{query}")
    assert answer.status_code in (400, 404)
    assert "payment-b0" not in answer.content.decode() and other.hash not in answer.content.decode()
    if query in ("", "?tree_size=5"):
        assert answer.status_code == 404


def test_without_any_head_the_ledger_answers_404(alice):
    assert alice.get("/api/ledger/heads/latest/").status_code == 404
    assert alice.get("/api/ledger/heads/").json() == {"results": [], "next": None}


def test_anonymous_clients_get_nothing(two_heads, client):
    assert client.get("/api/ledger/heads/latest/").status_code in (401, 403)


def test_keys_are_listed_with_the_sizes_and_times_they_sign_and_the_statement_between(two_heads, alice, settings,
                                                                                        tmp_path):
    first, second = two_heads
    next_key = Ed25519PrivateKey.generate()
    (tmp_path / "next.key").write_text(next_key.private_bytes_raw().hex())
    call_command("rotate_signing_key", "--new-key-file", str(tmp_path / "next.key"))
    settings.LEDGER_SIGNING_KEY = next_key.private_bytes_raw().hex()
    append("payment-a-later", "org-a")
    third = ledger.sign_tree_head()

    listed = alice.get("/api/ledger/keys/").json()["results"]
    statement = KeyStatement.objects.get()
    assert [(key["key_id"], key["public_key"]) for key in listed] == [
        (key_id(first.public_key), first.public_key), (key_id(third.public_key), third.public_key)]
    assert [(key["valid_from_tree_size"], key["valid_until_tree_size"]) for key in listed] == [(1, 8), (9, None)]
    rotation = timestamp_text(statement.timestamp)
    assert [(key["valid_from"], key["valid_until"]) for key in listed] == [(None, rotation), (rotation, None)]
    assert listed[0]["retired_by"] == listed[1]["introduced_by"] == {
        "sequence": 1, "tree_size": 8, "timestamp": rotation,
        "previous_key_id": key_id(first.public_key), "previous_public_key": first.public_key,
        "next_key_id": key_id(third.public_key), "next_public_key": third.public_key,
        "signature": statement.signature}
    assert ledger_verifier.signed(first.public_key, statement.signature,
                                  lambda: ledger_verifier.statement_message(listed[1]["introduced_by"]))
    assert alice.get("/api/ledger/heads/8/").json()["key_id"] == key_id(second.public_key)
    assert alice.get("/api/ledger/heads/latest/").json()["key_id"] == key_id(third.public_key)
