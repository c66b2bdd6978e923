"""The ledger in the admin: each event of a payment's page with the signed head that includes it and
its proof; the dashboard's latest head and whether the published head is still extended; the
Auditor group's bundle download."""

import io
import json
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client

from eventstore.ledger import service as ledger
from eventstore.ledger import verifier as ledger_verifier
from eventstore.models import Event
from eventstore.projections.engine import apply_all_pending

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def finance(client, random_commands, finance_user, ledger_key):
    random_commands(30, payments=5)
    apply_all_pending()
    client.force_login(finance_user)
    return client


def test_a_payments_page_shows_each_events_head_and_a_proof_that_verifies(finance):
    stream_id = Event.objects.values_list("stream_id", flat=True).first()
    page = finance.get(f"/admin/payments/paymentsummary/{stream_id}/change/")
    assert all(row.place is None for row in page.context["ledger_rows"]) and b"not signed yet" in page.content
    head = ledger.sign_tree_head()
    page = finance.get(f"/admin/payments/paymentsummary/{stream_id}/change/")
    rows = page.context["ledger_rows"]
    assert rows and all(row.place.head.tree_size == head.tree_size for row in rows)
    assert f"{head.tree_size} events, signed".encode() in page.content
    event, place = rows[0].event, rows[0].place
    assert f'href="/admin/ledger/proof/{event.position}/?tree_size={head.tree_size}"'.encode() in page.content
    download = finance.get(f"/admin/ledger/proof/{event.position}/")
    assert download["Content-Disposition"].startswith("attachment")
    proof = json.loads(download.content)
    leaf = ledger_verifier.leaf_hash(bytes.fromhex(event.hash))
    assert ledger_verifier.verify_inclusion(place.ledger_index, head.tree_size, leaf,
                                            [bytes.fromhex(node) for node in proof["audit_path"]],
                                            bytes.fromhex(proof["head"]["root_hash"]))


def test_the_dashboard_shows_the_latest_head_and_catches_a_rewrite_of_the_published_one(finance, tmp_path, tamper):
    panel = "/admin/analytics/dashboard/operations/?part=panel"  # the dashboard's operations panel
    assert b"No tree head is signed yet" in finance.get(panel).content
    head = ledger.sign_tree_head()
    call_command("publish_tree_head", str(tmp_path))
    page = finance.get(panel).content.decode()
    assert f"Latest signed tree head: {head.tree_size} events" in page and "extended by today's log" in page
    tamper("UPDATE eventstore_ledgernode SET hash = sha256(hash)")  # a tree rebuilt over other events
    assert "NOT extended by today's log" in finance.get(panel).content.decode()


def test_auditors_download_a_bundle_that_verifies_and_others_cannot(finance, tmp_path):
    ledger.sign_tree_head()
    client = Client()
    auditor = get_user_model().objects.create_user("audrey", password="pw", is_staff=True)
    auditor.groups.add(Group.objects.get_or_create(name="Auditor")[0])
    client.force_login(auditor)
    listing = client.get("/admin/eventstore/treehead/")
    assert listing.status_code == 200
    head_size = str(ledger.latest_head().tree_size)
    answer = client.post("/admin/eventstore/treehead/", {"action": "download_audit_bundle",
                                                         "_selected_action": [head_size]})
    assert answer["Content-Type"] == "application/zip"
    zipfile.ZipFile(io.BytesIO(answer.content)).extractall(tmp_path / "bundle")
    assert ledger_verifier.main([str(tmp_path / "bundle")]) == 0
    finance_answer = finance.post("/admin/eventstore/treehead/", {"action": "download_audit_bundle",
                                                                  "_selected_action": [head_size]})
    assert finance_answer.get("Content-Type") != "application/zip"
