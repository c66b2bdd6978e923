"""A payment event written under schema version 1 (no business time) read through every path: the
store's reads, folds, projections, snapshots, the API, the admin and the statement export. It reads
as having occurred when it was recorded; the stored row and its hash never change."""

import csv
import io
from datetime import UTC, datetime

import pytest

from analytics.statements import period_statement, statement_csv
from eventstore import selectors as store
from eventstore.integrity.verification import verify_event_chain
from eventstore.models import Event
from eventstore.projections.engine import apply_all_pending
from eventstore.projections.models import Snapshot
from payments.domain import SNAPSHOT_SCHEMA_VERSION
from payments.models import PaymentSummary
from payments.selectors import load_payment, payment_state_as_of
from tests.payments.schema_one import PAYMENT, READ_AS, RECORDED, write_version_one_payment

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def version_one_payment():
    return write_version_one_payment()


def stored_rows():
    return list(Event.objects.filter(stream_id=PAYMENT).order_by("version").values_list("data", "metadata", "hash"))


def test_reads_upcast_the_data_and_leave_the_stored_row_and_its_hash(version_one_payment):
    before = stored_rows()
    processed, refunded = store.read_stream(PAYMENT)

    assert processed.data["occurred_at"] == READ_AS
    assert refunded.data["occurred_at"] == "2023-05-12T08:00:00.000000+00:00"  # no schema_version: version 1
    assert processed.metadata["schema_version"] == 1  # metadata is shown as stored
    assert [processed.hash, refunded.hash] == [row[2] for row in before]
    assert all("occurred_at" not in data for data, _, _ in before)
    assert [e.data["occurred_at"] for e in store.events_by_correlation("order-v1")] == [READ_AS, refunded.data["occurred_at"]]
    assert store.search_events(store.EventSearch(event_type="PaymentProcessed")).events[0].data["occurred_at"] == READ_AS
    assert stored_rows() == before
    assert verify_event_chain(seal=False).ok


def test_folds_and_bitemporal_reads_use_the_upcast_business_time(version_one_payment):
    payment = load_payment(PAYMENT, use_snapshots=False)
    assert payment.occurred_at == RECORDED and payment.refunded == 20
    assert payment_state_as_of(PAYMENT, at=datetime(2023, 5, 10, tzinfo=UTC)) is None
    assert payment_state_as_of(PAYMENT, at=datetime(2023, 5, 11, tzinfo=UTC)).state["refunded"] == "0.00"
    assert payment_state_as_of(PAYMENT, at=datetime(2023, 5, 31, tzinfo=UTC)).state["refunded"] == "20.00"


def test_projections_and_snapshots_see_the_upcast_business_time(version_one_payment, settings):
    settings.PAYMENTS_SNAPSHOT_EVERY = 1
    apply_all_pending()

    assert PaymentSummary.objects.get(payment_id=PAYMENT).occurred_at == RECORDED
    snapshot = Snapshot.objects.get(stream_id=PAYMENT, version=2, schema_version=SNAPSHOT_SCHEMA_VERSION)
    assert snapshot.state["occurred_at"] == READ_AS
    assert load_payment(PAYMENT) == load_payment(PAYMENT, use_snapshots=False)


def test_the_api_answers_upcast_data_with_the_stored_hash_inputs_untouched(version_one_payment, tenants):
    apply_all_pending()
    history = tenants.acme.get(f"/api/payments/{PAYMENT}/history/").json()
    events = history["results"] if isinstance(history, dict) and "results" in history else history
    assert [event["data"]["occurred_at"] for event in events] == [READ_AS, "2023-05-12T08:00:00.000000+00:00"]
    state = tenants.acme.get(f"/api/payments/{PAYMENT}/state/", {"at": "2023-05-11T00:00:00Z"}).json()
    assert (state["refunded"], state["occurred_at"]) == ("0.00", "2023-05-10T12:00:00.250000Z")
    assert all("occurred_at" not in data for data, _, _ in stored_rows())


def test_the_admin_shows_the_upcast_event_and_what_is_stored(version_one_payment, client, finance_user):
    apply_all_pending()
    client.force_login(finance_user)
    page = client.get(f"/admin/payments/paymentsummary/{PAYMENT}/change/")
    assert b"2023-05-10 12:00:00" in page.content and page.context["history"][0].occurred_at == RECORDED
    position = Event.objects.get(stream_id=PAYMENT, version=1).position
    event_page = client.get(f"/admin/eventstore/event/{position}/change/").content.decode()
    assert READ_AS in event_page and "As stored (schema version 1" in event_page


def test_the_statement_export_counts_the_event_at_its_upcast_business_time(version_one_payment):
    statement = period_statement(organization_id="org-acme", since=datetime(2023, 5, 1, tzinfo=UTC),
                                 until=datetime(2023, 6, 1, tzinfo=UTC), known_at=datetime(2024, 1, 1, tzinfo=UTC))
    exported = statement_csv(statement)
    assert f"processed,EUR,80.00,{READ_AS}," in exported
    assert "EUR,0.00,80.00,20.00,0.00,60.00,60.00" in exported  # opening, movements, net, closing


def test_the_event_csv_export_reads_the_upcast_data_beside_the_stored_hash(version_one_payment, client, finance_user):
    client.force_login(finance_user)
    exported = b"".join(client.get("/admin/eventstore/event/export.csv", {"q": PAYMENT}).streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [row["stream_id"] for row in rows] == [PAYMENT, PAYMENT]
    assert all("occurred_at" in row["data"] for row in rows)
    assert sorted(row["hash"] for row in rows) == sorted(hash_ for _, _, hash_ in stored_rows())
