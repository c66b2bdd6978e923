"""Period statements: per currency processed, refunded, cancelled and net with the events behind
each figure, by business time and as known at a recorded time; the same twice, to the byte."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from analytics.projections import DailyTotalsProjection
from analytics.statements import period_statement, statement_csv, statement_json
from eventstore.ledger import service as ledger
from eventstore.projections.engine import apply_pending
from payments.models import Membership, Organization
from tests.synthetic import SyntheticEvent, load_history

pytestmark = pytest.mark.django_db(transaction=True)

JAN, FEB = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)
CLOSE = datetime(2024, 2, 2, 18, tzinfo=UTC)  # January's books closed


def event(payment, kind, amount, currency, occurred, recorded, organization="org-acme"):
    data = {"payment_id": payment, "user_id": "alice", "amount": amount, "currency": currency,
            "occurred_at": occurred.isoformat(timespec="microseconds")}
    if kind == "PaymentProcessed":
        data["organization_id"] = organization
    if kind == "PaymentRefunded":
        data["refunded_total"] = amount
    return SyntheticEvent(payment, kind, data, recorded, {"organization_id": organization, "schema_version": 2})


@pytest.fixture
def january():
    day = lambda d, h=10: datetime(2024, 1, d, h, tzinfo=UTC)  # noqa: E731
    load_history([
        event("payment-s1", "PaymentProcessed", "100.00", "EUR", day(3), day(3)),
        event("payment-s1", "PaymentRefunded", "25.00", "EUR", day(9), day(9)),
        event("payment-s1", "PaymentRefunded", "5.00", "EUR", day(30), CLOSE + timedelta(days=3)),  # late correction
        event("payment-s2", "PaymentProcessed", "1500", "JPY", day(15), day(15)),
        event("payment-s2", "PaymentCancelled", "1500", "JPY", day(16), day(16)),
        event("payment-s3", "PaymentProcessed", "40.00", "EUR", datetime(2023, 12, 31, 23, 59, tzinfo=UTC), day(2)),
        event("payment-s4", "PaymentProcessed", "60.00", "EUR", day(31, 23), FEB + timedelta(hours=2)),
        event("payment-s5", "PaymentProcessed", "999.00", "EUR", day(5), day(5), organization="org-globex"),
    ])


@pytest.fixture
def tenants(api_client_for):
    """API clients of org-acme (alice), org-globex (bob) and an operator who sees every organization."""
    return SimpleNamespace(acme=api_client_for("alice", "org-acme"), globex=api_client_for("bob", "org-globex"),
                           operator=api_client_for("olga", operator=True))


def figures(statement):
    return {t.currency: (t.processed, t.refunded, t.cancelled, t.net) for t in statement.totals}


def test_figures_by_business_time_as_known_at_the_close_and_now(january):
    at_close = period_statement(organization_id="org-acme", since=JAN, until=FEB, known_at=CLOSE)
    now = period_statement(organization_id="org-acme", since=JAN, until=FEB, known_at=datetime(2025, 1, 1, tzinfo=UTC))

    assert figures(at_close) == {"EUR": (Decimal("160.00"), Decimal("25.00"), Decimal("0.00"), Decimal("135.00")),
                                 "JPY": (Decimal("1500"), Decimal("0"), Decimal("1500"), Decimal("0"))}
    assert figures(now)["EUR"] == (Decimal("160.00"), Decimal("30.00"), Decimal("0.00"), Decimal("130.00"))
    assert [line.payment_id for line in at_close.lines_of("EUR", "processed")] == ["payment-s1", "payment-s4"]
    assert [line.amount for line in now.lines_of("EUR", "refunded")] == [Decimal("25.00"), Decimal("5.00")]


def test_the_same_statement_as_known_at_the_same_time_is_byte_identical(january, tenants):
    params = {"organization_id": "org-acme", "from": "2024-01-01T00:00:00Z", "to": "2024-02-01T00:00:00Z",
              "known_at": "2024-02-02T18:00:00Z"}
    first = tenants.acme.get("/api/analytics/statement/csv/", params)
    load_history([event("payment-s9", "PaymentProcessed", "7.00", "EUR", datetime(2024, 1, 7, tzinfo=UTC),
                        datetime(2024, 3, 1, tzinfo=UTC))])  # recorded after known_at: changes nothing
    second = tenants.acme.get("/api/analytics/statement/csv/", params)

    assert first.status_code == 200 and first["Content-Type"].startswith("text/csv")
    assert first.content == second.content
    assert first["Content-Disposition"] == second["Content-Disposition"]
    assert b"EUR,40.00,160.00,25.00,0.00,135.00,175.00" in first.content  # opening: payment-s3, 31 December
    assert first.content.decode() == statement_csv(period_statement(
        organization_id="org-acme", since=JAN, until=FEB, known_at=CLOSE))


def test_the_opening_balance_from_the_daily_totals_names_the_same_head_after_later_corrections(january, ledger_key):
    """The opening balance read from the daily totals is the one read from the events, under the same
    head; a correction of an old day recorded after known_at, applied and signed, changes neither."""
    def january_json(known_at=CLOSE):
        return statement_json(period_statement(organization_id="org-acme", since=JAN, until=FEB, known_at=known_at))

    ledger.sign_tree_head()
    from_events = january_json()
    apply_pending(DailyTotalsProjection())
    assert january_json() == from_events
    load_history([event("payment-s6", "PaymentProcessed", "9.00", "EUR", datetime(2023, 12, 30, tzinfo=UTC),
                        CLOSE + timedelta(days=10))])
    apply_pending(DailyTotalsProjection())
    newer = ledger.sign_tree_head()

    assert january_json() == from_events
    now = period_statement(organization_id="org-acme", since=JAN, until=FEB, known_at=datetime(2025, 1, 1, tzinfo=UTC))
    assert (now.totals[0].opening, now.totals[0].opening_events) == (Decimal("49.00"), 2)
    assert now.tree_head["tree_size"] == newer.tree_size


def test_the_api_statement_lists_the_events_behind_each_figure_and_scopes_to_the_callers_organizations(january, tenants):
    params = {"organization_id": "org-acme", "from": "2024-01-01T00:00:00Z", "to": "2024-02-01T00:00:00Z",
              "known_at": "2024-02-02T18:00:00Z"}
    answer = tenants.acme.get("/api/analytics/statement/", params)
    assert answer.status_code == 200, answer.json()
    eur = next(c for c in answer.json()["currencies"] if c["currency"] == "EUR")
    assert (eur["processed"], eur["refunded"], eur["net"]) == ("160.00", "25.00", "135.00")
    assert [line["payment_id"] for line in eur["events"]["refunded"]] == ["payment-s1"]

    assert tenants.globex.get("/api/analytics/statement/", params).status_code == 404
    assert tenants.operator.get("/api/analytics/statement/", params).status_code == 200
    for bad in ({"to": "2023-01-01T00:00:00Z"}, {"known_at": "yesterday"}, {"organization_id": ""}):
        refused = tenants.acme.get("/api/analytics/statement/", {**params, **bad})
        assert refused.status_code == 400, (bad, refused.json())


def test_the_printable_admin_page_and_its_csv(january, client, finance_user):
    acme, _ = Organization.objects.get_or_create(id="org-acme", defaults={"name": "Acme"})
    Membership.objects.create(user=finance_user, organization=acme)  # fiona sees org-acme only
    client.force_login(finance_user)
    query = {"organization": "org-acme", "start": "2024-01-01", "end": "2024-01-31", "known_at": "2024-02-02 18:00:00"}
    page = client.get("/admin/analytics/statement/", query)
    assert page.status_code == 200
    html = page.content.decode()
    assert "@media print" in html and "135.00" in html and "payment-s4" in html and "payment-s5" not in html
    download = client.get("/admin/analytics/statement/", {**query, "download": "csv"})
    again = client.get("/admin/analytics/statement/", {**query, "download": "csv"})
    assert download["Content-Type"].startswith("text/csv") and download.content == again.content
    assert b"as known at,2024-02-02T18:00:00.000000+00:00" in download.content
    backwards = client.get("/admin/analytics/statement/", {**query, "start": "2024-02-01"})
    assert backwards.status_code == 200 and "must be before" in backwards.content.decode()
    other = client.get("/admin/analytics/statement/", {**query, "organization": "org-globex"})
    assert "statement" not in other.context and "999.00" not in other.content.decode()
