"""The one proof service: an inclusion proof refers to the signed head of the requested size, else
the newest, whether the API, the admin's download or the audit bundle asks; it refuses an event of
another organization as one that does not exist, and a head too small to hold the event."""

import json
import zipfile

import pytest

from eventstore import selectors
from eventstore.events import ANY, NewEvent, RecordedEvent
from eventstore.ledger import proofs
from eventstore.ledger import service as ledger
from eventstore.ledger import verifier as ledger_verifier
from eventstore.ledger.bundle import Selection, export_audit_bundle
from eventstore.projections.engine import apply_all_pending
from eventstore.store import append_events
from tests import admin_users
from tests.eventstore.helpers import payment_data

pytestmark = pytest.mark.django_db(transaction=True)


def append(payment_id: str, organization: str) -> RecordedEvent:
    return append_events(stream_id=payment_id, aggregate_type="Payment", expected_version=ANY, events=[NewEvent(
        "PaymentProcessed", {**payment_data("PaymentProcessed", "5.00", payment_id), "organization_id": organization},
        {"organization_id": organization})]).events[0]


def stored(payment_id: str) -> RecordedEvent:
    return next(selectors.read_stream(payment_id))


@pytest.fixture
def two_heads(ledger_key):
    """Heads of 3 events (org-a's payment-a0..a2) and of 8 (then org-b's payment-b0..b3 and org-a's
    payment-a-late, leaf 7)."""
    for number in range(3):
        append(f"payment-a{number}", "org-a")
    first = ledger.sign_tree_head()
    for number in range(4):
        append(f"payment-b{number}", "org-b")
    append("payment-a-late", "org-a")
    return first, ledger.sign_tree_head()


@pytest.fixture
def fiona(client):
    """A finance user of org-a, logged in to the admin."""
    client.force_login(admin_users.finance_user(organizations=["org-a"]))
    return client


def downloaded(admin_client, event: RecordedEvent, query: str = "") -> dict:
    answer = admin_client.get(f"/admin/ledger/proof/{event.position}/{query}")
    assert answer.status_code == 200
    return json.loads(answer.content)


@pytest.mark.parametrize("query, tree_size", [("", 8), ("?tree_size=3", 3)])
def test_the_api_and_the_admin_prove_an_event_in_the_same_head(two_heads, api_client_for, fiona, query, tree_size):
    event = stored("payment-a1")
    from_api = api_client_for("alice", "org-a").get(f"/api/events/{event.event_id}/proof/{query}").json()
    from_admin = downloaded(fiona, event, query)
    expected = proofs.inclusion_proof(event, organization_ids=["org-a"], tree_size=tree_size if query else None)
    assert from_api == expected.document() and from_api["tree_size"] == tree_size
    assert from_admin == expected.document_with_event()
    assert (from_admin["event_id"], from_admin["hash"]) == (str(event.event_id), event.hash)
    assert ledger_verifier.verify_inclusion(
        1, tree_size, ledger_verifier.leaf_hash(bytes.fromhex(event.hash)),
        [bytes.fromhex(node) for node in from_api["audit_path"]], bytes.fromhex(from_api["head"]["root_hash"]))


def test_the_payment_page_links_the_proof_in_the_head_it_shows(two_heads, fiona):
    apply_all_pending()
    page = fiona.get("/admin/payments/paymentsummary/payment-a1/change/")
    row = page.context["ledger_rows"][0]
    event, place = row.event, row.place
    assert place.head.tree_size == 3  # the first signed head that holds the event
    assert f'href="/admin/ledger/proof/{event.position}/?tree_size=3"' in page.content.decode()
    assert downloaded(fiona, event, "?tree_size=3")["tree_size"] == 3


def test_the_audit_bundle_proves_in_the_head_an_unsized_proof_refers_to(two_heads, tmp_path):
    event = stored("payment-a1")
    manifest = export_audit_bundle(tmp_path / "bundle.zip", Selection(stream_id="payment-a1"))
    with zipfile.ZipFile(tmp_path / "bundle.zip") as bundle:
        line = json.loads(bundle.read("proofs.jsonl").decode().splitlines()[0])
    proof = proofs.inclusion_proof(event, organization_ids=None)
    assert manifest["tree_size"] == proof.head.tree_size == two_heads[1].tree_size
    assert line == {"ledger_index": proof.leaf_index, "audit_path": proof.audit_path}


def test_an_event_of_another_organization_is_refused_as_if_there_were_none(two_heads, fiona):
    other = stored("payment-b0")
    with pytest.raises(proofs.NoSuchEvent) as refused:
        proofs.inclusion_proof(other, organization_ids=["org-a"])
    with pytest.raises(proofs.NoSuchEvent) as missing:
        proofs.inclusion_proof(None, organization_ids=["org-a"])
    assert str(refused.value) == str(missing.value)
    assert proofs.inclusion_proof(other, organization_ids=["org-b"]).leaf_index == 3
    assert fiona.get(f"/admin/ledger/proof/{other.position}/").status_code == 404


@pytest.mark.parametrize("payment_id, leaf_index", [("payment-b0", 3), ("payment-a-late", 7)])
def test_a_tree_size_smaller_than_the_events_leaf_is_refused(two_heads, payment_id, leaf_index):
    event = stored(payment_id)
    with pytest.raises(proofs.NotInHead):
        proofs.inclusion_proof(event, organization_ids=None, tree_size=3)
    assert proofs.inclusion_proof(event, organization_ids=None, tree_size=8).leaf_index == leaf_index


@pytest.mark.parametrize("tree_size", [5, 99])
def test_a_size_no_head_was_signed_at_is_refused(two_heads, tree_size):
    with pytest.raises(proofs.NoSuchHead):
        proofs.inclusion_proof(stored("payment-a1"), organization_ids=None, tree_size=tree_size)


def test_without_a_signed_head_there_is_no_proof(ledger_key):
    event = append("payment-a0", "org-a")
    ledger.extend_ledger()
    with pytest.raises(proofs.NoSignedHead):
        proofs.inclusion_proof(event, organization_ids=None)
