"""Personal fields stored encrypted under their subject's key, read in plaintext everywhere while the key
exists, and erased for good by destroying it, without breaking a hash, seal, head, proof or bundle."""

import json

import psycopg
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from eventstore import personal_data
from eventstore.actors import management_command
from eventstore.erasure import ErasureRefused, erase_personal_data
from eventstore.events import ANY
from eventstore.integrity.verification import verify_event_chain
from eventstore.ledger import service as ledger
from eventstore.ledger.bundle import export_audit_bundle
from eventstore.models import Event, PersonalDataKey
from eventstore.projections.engine import apply_all_pending
from eventstore.store import append_events
from payments.models import PaymentSummary
from tests.eventstore import merkle_reference as reference
from tests.eventstore.helpers import payment_events
from tests.eventstore.ledger.test_bundle import run_verifier, unpacked

pytestmark = pytest.mark.django_db(transaction=True)

PERSON = "ada-lovelace-1815"
DESCRIPTION = "Flowers for Ada, Marylebone 7f3k"
SECRETS = (PERSON, DESCRIPTION, "Marylebone")


def tables_holding(*texts: str) -> list[str]:
    """Every text, varchar, json and jsonb column of every table of every schema of ours whose raw rows
    hold one of `texts`: where plaintext could hide."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns AS c"
            " JOIN information_schema.tables AS t USING (table_schema, table_name)"
            " WHERE t.table_type = 'BASE TABLE' AND c.table_schema NOT IN ('pg_catalog', 'information_schema')"
            " AND c.data_type IN ('text', 'character varying', 'json', 'jsonb', 'character')")
        columns = cursor.fetchall()
        found = []
        for schema, table, column in columns:
            for text in texts:
                cursor.execute(f'SELECT count(*) FROM "{schema}"."{table}" WHERE "{column}"::text LIKE %s',
                               [f"%{text}%"])
                if cursor.fetchone()[0]:
                    found.append(f"{schema}.{table}.{column}: {text}")
    return found


def leaves() -> list[bytes]:
    """Every event's leaf, in ledger order: what RFC 9162's tree is built over."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT e.hash FROM eventstore_ledgerentry AS l JOIN eventstore_event AS e USING (position)"
                       " ORDER BY l.ledger_index")
        return [bytes.fromhex(hash_) for (hash_,) in cursor.fetchall()]


def test_personal_fields_are_ciphertext_read_in_plaintext_and_erased_without_breaking_a_proof(
        run_command, command_request, tenants, ledger_key, tmp_path, client):
    result = run_command(command_request(user_id=PERSON, description=DESCRIPTION, organization_id="org-acme"))
    assert result.success, result.message
    payment_id = result.payment_id
    apply_all_pending()

    stored = Event.objects.get(stream_id=payment_id)
    raw = json.dumps([stored.data, stored.metadata])
    assert not any(secret in raw for secret in SECRETS)
    assert stored.data["description"]["$enc"]["subject"] == f"payment:{payment_id}"
    assert "$enc" in stored.metadata["user_id"]

    history = tenants.operator.get(f"/api/payments/{payment_id}/history/").json()
    assert history["results"][0]["data"]["description"] == DESCRIPTION
    assert history["results"][0]["metadata"]["user_id"] == PERSON
    assert tenants.operator.get(f"/api/payments/{payment_id}/").json()["user_id"] == PERSON
    admin = get_user_model().objects.create_superuser("root", password="pw")
    client.force_login(admin)
    assert DESCRIPTION in client.get(f"/admin/eventstore/event/{stored.position}/change/").content.decode()

    assert verify_event_chain().ok
    first_head = ledger.sign_tree_head()
    export_audit_bundle(tmp_path / "before.zip")

    answer = client.post("/admin/eventstore/stream/", {
        "action": "erase_personal_data", "_selected_action": [payment_id], "apply": "1",
        "legal_basis": "GDPR Art. 17(1)(a)", "reason": "Request DSR-42"})
    assert answer.status_code == 302
    erasure = Event.objects.get(event_type="PersonalDataErased")
    assert erasure.data["subject"] == f"payment:{payment_id}" and erasure.data["reason"] == "Request DSR-42"
    assert erasure.metadata["actor"].pop("session")  # a digest of the admin session, never its key
    assert erasure.metadata["actor"] == {"kind": "user", "id": str(admin.pk), "name": "root", "channel": "admin"}

    assert tables_holding(*SECRETS) == []
    assert PaymentSummary.objects.get(payment_id=payment_id).description == personal_data.ERASED
    history = tenants.operator.get(f"/api/payments/{payment_id}/history/").content.decode()
    assert personal_data.ERASED in history and not any(secret in history for secret in SECRETS)
    for page in (f"/admin/eventstore/event/{stored.position}/change/", "/admin/eventstore/event/export.csv",
                 f"/admin/payments/paymentsummary/{payment_id}/change/"):
        shown = client.get(page)
        text = b"".join(shown.streaming_content) if shown.streaming else shown.content
        assert shown.status_code == 200 and not any(secret in text.decode() for secret in SECRETS), page

    assert verify_event_chain().ok
    second_head = ledger.sign_tree_head()
    export_audit_bundle(tmp_path / "after.zip")
    for bundle in ("before.zip", "after.zip"):
        checked = run_verifier(unpacked(tmp_path / bundle), "--public-key", first_head.public_key)
        assert checked.returncode == 0, checked.stderr
    assert not any(secret.encode() in (tmp_path / "after.zip").read_bytes() for secret in SECRETS)

    all_leaves = leaves()
    assert reference.mth(all_leaves[:first_head.tree_size]).hex() == first_head.root_hash
    assert reference.mth(all_leaves[:second_head.tree_size]).hex() == second_head.root_hash
    proof = tenants.operator.get(f"/api/events/{stored.event_id}/proof/").json()
    assert proof["tree_size"] == second_head.tree_size
    assert proof["audit_path"] == [node.hex() for node in reference.path(proof["leaf_index"], all_leaves)]
    assert all_leaves[proof["leaf_index"]] == bytes.fromhex(stored.hash)
    consistency = tenants.operator.get(
        f"/api/ledger/consistency/?first={first_head.tree_size}&second={second_head.tree_size}").json()
    assert consistency["consistency_path"] == [
        node.hex() for node in reference.proof(first_head.tree_size, all_leaves[:second_head.tree_size])]


def test_an_erasure_under_a_retention_hold_is_refused_and_writes_nothing(settings):
    append_events(stream_id="payment-held", aggregate_type="Payment", events=payment_events(2), expected_version=ANY)
    settings.PERSONAL_DATA_RETENTION = [{"rule": "accounting records (10 years)", "subjects": "payment:", "days": 3653}]
    before = Event.objects.count()

    with pytest.raises(CommandError, match=r"retention rule 'accounting records \(10 years\)' holds its personal "
                                           r"data until 20\d\d-\d\d-\d\d"):
        call_command("erase_personal_data", "payment:payment-held", "--reason", "asked")

    assert Event.objects.count() == before
    assert PersonalDataKey.objects.filter(subject="payment:payment-held").exists()
    settings.PERSONAL_DATA_RETENTION = [{"rule": "litigation hold", "subjects": "payment:payment-h", "until": "2000-01-01"}]
    erase_personal_data(subject="payment:payment-held", reason="asked", actor=management_command("test"))
    with pytest.raises(ErasureRefused, match="nothing to erase"):
        erase_personal_data(subject="payment:payment-held", reason="again", actor=management_command("test"))
    assert Event.objects.count() == before + 1


def test_the_application_role_reads_one_subjects_key_but_cannot_list_them(plain_connection):
    append_events(stream_id="payment-keyed", aggregate_type="Payment", events=payment_events(1), expected_version=ANY)
    role = settings.DATABASE_APP_ROLE
    with plain_connection(role=role) as app:
        rows = app.execute("SELECT subject FROM eventstore_personal_data_keys(ARRAY['payment:payment-keyed'])").fetchall()
        assert rows == [("payment:payment-keyed",)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for table"):
            app.execute("SELECT subject FROM eventstore_personaldatakey")


def test_an_event_cannot_bring_an_envelope_of_its_own():
    forged = payment_events(1)[0]
    stolen = {"$enc": {"subject": "payment:payment-other", "key_id": "x", "ct": "AAAA"}}
    with pytest.raises(Exception, match="only the store encrypts"):
        append_events(stream_id="payment-forged", aggregate_type="Payment", expected_version=ANY,
                      events=[type(forged)(forged.event_type, {**forged.data, "note": stolen})])
    assert not Event.objects.filter(stream_id="payment-forged").exists()
