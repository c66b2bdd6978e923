"""Statements that balance and prove themselves: months cut at the organization's local midnight
across daylight saving (statements, trends, exports), opening + movements = closing for random
histories as known at any time, and a statement recomputed from an audit bundle by the bundle's own
offline verifier."""

import itertools
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.selectors import EventQuery, event_trend
from analytics.statements import SIGNS, period_statement
from eventstore.ledger import service as ledger
from eventstore.ledger.bundle import Selection, export_audit_bundle
from payments.models import Organization
from tests.admin_users import finance_user
from tests.eventstore.ledger.test_bundle import run_verifier, unpacked
from tests.synthetic import SyntheticEvent, load_history

pytestmark = pytest.mark.django_db(transaction=True)

PARIS = ZoneInfo("Europe/Paris")
KIND = {"processed": "PaymentProcessed", "refunded": "PaymentRefunded", "cancelled": "PaymentCancelled"}
MARCH_CLOSE = datetime(2026, 4, 2, 18, tzinfo=UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def event(payment, kind, amount, occurred, recorded=None, *, currency="EUR", organization="org-paris"):
    recorded = recorded or occurred + timedelta(hours=1)
    data = {"payment_id": payment, "user_id": "u", "amount": amount, "currency": currency,
            "occurred_at": occurred.isoformat(timespec="microseconds")}
    return SyntheticEvent(payment, KIND[kind], data, recorded, {"organization_id": organization, "schema_version": 2})


# Each payment's business time in UTC, and the Paris day it belongs to.
AROUND_DAYLIGHT_SAVING = [
    event("payment-p2", "processed", "50.00", utc("2026-02-28T22:30")),       # Feb 28 23:30 CET: February
    event("payment-p1", "processed", "100.00", utc("2026-02-28T23:30")),      # Mar 1 00:30 CET: March
    event("payment-t1", "processed", "1.00", utc("2026-03-28T23:30")),        # Mar 29 00:30 CET
    event("payment-t2", "processed", "1.00", utc("2026-03-29T21:59")),        # Mar 29 23:59 CEST (a 23-hour day)
    event("payment-t3", "processed", "1.00", utc("2026-03-29T22:00")),        # Mar 30 00:00 CEST
    event("payment-p1", "refunded", "5.00", utc("2026-03-15T10:00"), utc("2026-04-10T09:00")),  # after the close
    event("payment-p3", "processed", "30.00", utc("2026-03-31T21:30")),       # Mar 31 23:30 CEST: March
    event("payment-p4", "processed", "20.00", utc("2026-03-31T22:30")),       # Apr 1 00:30 CEST: April
    event("payment-p8", "processed", "13.00", utc("2026-09-30T21:59:59")),    # Sep 30 23:59:59 CEST
    event("payment-p7", "processed", "11.00", utc("2026-09-30T22:00")),       # Oct 1 00:00 CEST: October
    event("payment-u1", "processed", "1.00", utc("2026-10-24T22:00")),        # Oct 25 00:00 CEST
    event("payment-u2", "processed", "1.00", utc("2026-10-25T22:59")),        # Oct 25 23:59 CET (a 25-hour day)
    event("payment-u3", "processed", "1.00", utc("2026-10-25T23:00")),        # Oct 26 00:00 CET
    event("payment-p5", "processed", "7.00", utc("2026-10-31T22:59")),        # Oct 31 23:59 CET: October
    event("payment-p6", "processed", "9.00", utc("2026-10-31T23:00")),        # Nov 1 00:00 CET: November
    event("payment-x1", "processed", "999.00", utc("2026-03-10T10:00"), organization="org-other"),
]


@pytest.fixture
def paris(client):
    """org-paris keeps Paris time; Fiona, its finance staff, is signed in."""
    Organization.objects.create(id="org-paris", name="Paris", time_zone="Europe/Paris")
    load_history(sorted(AROUND_DAYLIGHT_SAVING, key=lambda e: (e.stream_id, e.recorded_at)))
    client.force_login(finance_user(organizations=["org-paris"]))
    return client


def admin_statement(client, start, end, known_at, **more):
    return client.get("/admin/analytics/statement/", {"organization": "org-paris", "start": start, "end": end,
                                                     "known_at": known_at, **more})


def test_months_and_days_are_cut_at_paris_midnight_across_daylight_saving(paris):
    march = json.loads(admin_statement(paris, "2026-03-01", "2026-03-31", "2026-04-02 18:00", download="json").content)
    assert (march["from"], march["to"], march["time_zone"]) == (
        "2026-02-28T23:00:00.000000+00:00", "2026-03-31T22:00:00.000000+00:00", "Europe/Paris")
    assert sorted(line["stream_id"] for line in march["lines"]) == [
        "payment-p1", "payment-p3", "payment-t1", "payment-t2", "payment-t3"]  # not the late refund, nor p4
    assert march["currencies"] == [{"currency": "EUR", "opening": "50.00", "opening_events": 1, "processed": "133.00",
                                    "refunded": "0.00", "cancelled": "0.00", "net": "133.00", "closing": "183.00"}]

    page = admin_statement(paris, "2026-10-01", "2026-10-31", "2026-11-03 00:00").content.decode()
    assert "from 2026-10-01 00:00 to before 2026-11-01 00:00 (Europe/Paris: from 2026-09-30 22:00" in " ".join(page.split())
    october_csv = admin_statement(paris, "2026-10-01", "2026-10-31", "2026-11-03 00:00", download="csv")
    assert "statement-org-paris-20261001-20261031-known-" in october_csv["Content-Disposition"]
    october = admin_statement(paris, "2026-10-01", "2026-10-31", "2026-11-03 00:00", download="csv").content.decode().replace("\r\n", "\n")
    assert "occurred from,2026-09-30T22:00:00.000000+00:00\noccurred before,2026-10-31T23:00:00.000000+00:00\n" \
           "time zone,Europe/Paris\n" in october
    # opening: p2, p1, the t's, p3, p4, p8 and the late refund (-5.00), all known by November
    assert "EUR,211.00,21.00,0.00,0.00,21.00,232.00\n" in october
    assert {"payment-p7", "payment-p5", "payment-u1", "payment-u2", "payment-u3"} == {
        row.split(",")[5] for row in october.split("\n\n")[-1].splitlines()[1:]}

    def days(since, until, interval="day"):
        query = EventQuery("PaymentProcessed", since.replace(tzinfo=PARIS), until.replace(tzinfo=PARIS), ("org-paris",))
        trend = event_trend(query, interval=interval, time_zone="Europe/Paris")
        return [(bucket.start.strftime("%m-%d %z"), bucket.count) for bucket in trend.buckets]

    assert days(datetime(2026, 3, 28), datetime(2026, 3, 31)) == [("03-28 +0100", 0), ("03-29 +0100", 2),
                                                                  ("03-30 +0200", 1)]
    assert days(datetime(2026, 10, 24), datetime(2026, 10, 27)) == [("10-24 +0200", 0), ("10-25 +0200", 2),
                                                                    ("10-26 +0100", 1)]
    assert days(datetime(2026, 9, 1), datetime(2026, 12, 1), "month") == [("09-01 +0200", 1), ("10-01 +0200", 5),
                                                                          ("11-01 +0100", 1)]


def test_one_click_lists_the_events_behind_a_figure(paris):
    page = admin_statement(paris, "2026-03-01", "2026-03-31", "2026-04-02 18:00").content.decode()
    assert "explain=opening&amp;currency=EUR" in page and "explain=closing&amp;currency=EUR" in page
    assert "No signed tree head holds every event of this statement yet" in page
    opening = admin_statement(paris, "2026-03-01", "2026-03-31", "2026-04-02 18:00", explain="opening",
                              currency="EUR").context["explain"]
    assert [line.payment_id for line in opening["opening_lines"]] == ["payment-p2"] and opening["value"] == 50
    processed = admin_statement(paris, "2026-03-01", "2026-03-31", "2026-04-02 18:00", explain="processed",
                                currency="EUR").context["explain"]
    assert sum(line.amount for line in processed["lines"]) == processed["value"] == Decimal("133.00")


def test_an_auditor_recomputes_the_statement_from_an_audit_bundle_offline(paris, ledger_key, tmp_path, api_client_for):
    head = ledger.sign_tree_head()
    march = admin_statement(paris, "2026-03-01", "2026-03-31", "2026-04-02 18:00", download="json")
    by_api = api_client_for("paula", "org-paris").get("/api/analytics/statement/json/", {
        "organization_id": "org-paris", "from": "2026-03-01T00:00:00+01:00", "to": "2026-04-01T00:00:00+02:00",
        "known_at": "2026-04-02T18:00:00Z"})
    assert by_api.status_code == 200 and by_api.content == march.content  # one export, whichever door
    document = json.loads(march.content)
    assert document["tree_head"] == {"tree_size": head.tree_size, "timestamp": document["tree_head"]["timestamp"],
                                     "root_hash": head.root_hash, "public_key": head.public_key}
    assert all(type(line["ledger_index"]) is int and len(line["hash"]) == 64 for line in document["lines"])
    load_history([event("payment-p9", "processed", "3.00", utc("2026-03-20T10:00"), utc("2026-05-01T00:00"))])
    ledger.sign_tree_head()  # a newer head, holding a correction recorded after the close, is the bundle's
    export_audit_bundle(tmp_path / "paris.zip", Selection(organization_id="org-paris"))
    bundle = unpacked(tmp_path / "paris.zip")

    served = tmp_path / "march.json"
    served.write_bytes(march.content)
    result = run_verifier(bundle, "--statement", str(served))
    assert result.returncode == 0, result.stderr
    assert "the statement of org-paris" in result.stdout and "recomputes from the bundle: 5 lines" in result.stdout

    for name, change in (("a figure", lambda d: d["currencies"][0].update(closing="184.00")),
                         ("a dropped line", lambda d: d["lines"].pop()),
                         ("an amount", lambda d: d["lines"][0].update(amount="1.01")),
                         ("the head", lambda d: d["tree_head"].update(root_hash="0" * 64))):
        forged = json.loads(march.content)
        change(forged)
        served.write_text(json.dumps(forged))
        result = run_verifier(bundle, "--statement", str(served))
        assert result.returncode == 1 and "statement:" in result.stderr, name


movements = st.lists(st.tuples(
    st.sampled_from(list(KIND)), st.integers(1, 10**6), st.sampled_from(["EUR", "JPY"]),
    st.integers(0, 90 * 24 - 1),  # business time: hours into the quarter
    st.integers(0, 40 * 24),  # recorded that many hours later: some after the month-end close
), max_size=40)
ORGANIZATIONS = itertools.count()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=movements)
def test_opening_plus_movements_is_closing_as_known_at_any_time(history):
    organization = f"org-random-{next(ORGANIZATIONS)}"
    start = datetime(2026, 3, 1, tzinfo=PARIS)
    events = [event(f"payment-{organization}-{n}", kind, f"{Decimal(cents) / 100:.2f}" if currency == "EUR"
                    else str(cents), start + timedelta(hours=hours), start + timedelta(hours=hours + delay),
                    currency=currency, organization=organization)
              for n, (kind, cents, currency, hours, delay) in enumerate(history)]
    load_history(events)
    months = [datetime(2026, month, 1, tzinfo=PARIS) for month in (3, 4, 5, 6)]
    for known_at in (datetime(2026, 4, 2, 18, tzinfo=PARIS), datetime(2026, 5, 2, tzinfo=PARIS),
                     datetime(2026, 12, 1, tzinfo=UTC)):
        closing = {}
        for since, until in zip(months, months[1:]):
            statement = period_statement(organization_id=organization, since=since, until=until, known_at=known_at)
            for totals in statement.totals:
                assert totals.closing == totals.opening + totals.processed - totals.refunded - totals.cancelled
                assert totals.opening == closing.get(totals.currency, 0)  # the month before closed there
                assert (totals.opening, totals.closing) == reference(events, organization, totals.currency, since,
                                                                     until, known_at)
                closing[totals.currency] = totals.closing


def reference(events, organization, currency, since, until, known_at) -> tuple[Decimal, Decimal]:
    """Opening and closing balances, by brute force over the events written."""
    figure = {event_type: kind for kind, event_type in KIND.items()}
    known = [(datetime.fromisoformat(e.data["occurred_at"]), SIGNS[figure[e.event_type]] * Decimal(e.data["amount"]))
             for e in events if e.data["currency"] == currency and e.recorded_at <= known_at
             and e.metadata["organization_id"] == organization]
    return (sum((amount for occurred, amount in known if occurred < since), Decimal(0)),
            sum((amount for occurred, amount in known if occurred < until), Decimal(0)))
