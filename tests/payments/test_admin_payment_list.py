"""The admin as finance staff would choose it: finance words, readable statuses and amounts, exact or
"about" counts, search by part of an id, CSV a spreadsheet reads right, and each member seeing only
the organizations they belong to."""

import csv
import io
import json
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from eventstore.models import Event
from eventstore.projections.engine import apply_all_pending
from eventstore.web.admin_base import EstimatedCountPaginator
from payments.models import PaymentSummary
from tests.admin_users import finance_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def history(random_commands):
    random_commands(150, payments=25)
    apply_all_pending()


@pytest.fixture
def operator(client, history):
    client.force_login(finance_user("olga"))
    return client


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_list_speaks_finance(operator):
    page = operator.get("/admin/payments/paymentsummary/")
    html = page.content.decode()
    total = PaymentSummary.objects.count()
    assert page.context["title"] == "Payments" and "Select payment" not in html
    assert f'<span class="result-count">{total} payments</span>' in html
    assert "PARTIALLY_REFUNDED" not in html.split('id="result_list"')[1].split("</table>")[0]
    for one in PaymentSummary.objects.all():
        decimals = {"JPY": 0, "KWD": 3}.get(one.currency, 2)
        assert f'<td class="field-amount_shown money">{one.amount:,.{decimals}f} {one.currency}</td>' in html
    assert " UTC</td>" in html
    for payment in page.context["cl"].result_list:
        assert f'<a href="/admin/payments/paymentsummary/{payment.payment_id}/change/">' in html


def test_partially_refunded_reads_as_words_in_the_list_and_the_history(operator):
    partial = PaymentSummary.objects.filter(status="PARTIALLY_REFUNDED").first()
    assert partial, "the history should hold a partly refunded payment"
    listing = operator.get("/admin/payments/paymentsummary/", {"status__exact": "PARTIALLY_REFUNDED"}).content.decode()
    page = operator.get(f"/admin/payments/paymentsummary/{partial.payment_id}/change/").content.decode()
    for html in (listing, page):
        shown = re.sub(r'(href|value)="[^"]*"', "", html)  # what the reader sees, not the filter's links
        assert "Partially refunded" in shown and "PARTIALLY_REFUNDED" not in shown


def test_counts_are_exact_when_cheap_and_about_when_estimated(history):
    payments = PaymentSummary.objects.order_by("payment_id")
    assert EstimatedCountPaginator(payments, 100).count == payments.count()
    with connection.cursor() as cursor:  # the planner's estimate of a big table
        cursor.execute("UPDATE pg_class SET reltuples = 1234567 WHERE oid = 'payments_paymentsummary'::regclass")
    try:
        paginator = EstimatedCountPaginator(payments, 100)
        assert paginator.count == 1234567 and paginator.estimated
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE payments_paymentsummary")


def test_a_part_of_a_payment_id_finds_it(operator):
    wanted = PaymentSummary.objects.order_by("payment_id").first().payment_id  # payment-mix-N
    number = wanted.rsplit("-", 1)[1]
    for term in (wanted, f"mix-{number}", wanted.upper()):
        found = operator.get("/admin/payments/paymentsummary/", {"q": term}).context["cl"].result_list
        assert wanted in [payment.payment_id for payment in found]
        assert all(term.lower() in payment.payment_id for payment in found)
    assert operator.get("/admin/payments/paymentsummary/", {"q": "no-such-(payment"}).context["cl"].result_count == 0


def test_demo_ids_are_found_by_their_number(operator):
    template = PaymentSummary.objects.first()
    for payment_id in ("payment-demo-00031", "payment-demo-00310", "payment-demo-10031"):
        template.pk, template.payment_id = payment_id, payment_id
        template.save(force_insert=True)  # read-model rows as the projection writes them
    for term in ("00031", "demo-00031", "payment-demo-00031"):
        found = operator.get("/admin/payments/paymentsummary/", {"q": term}).context["cl"].result_list
        assert [payment.payment_id for payment in found] == ["payment-demo-00031"]


def test_csv_has_minor_units_json_both_times_and_a_dated_name(operator):
    response = operator.get("/admin/payments/paymentsummary/export.csv")
    assert response["Content-Disposition"] == f'attachment; filename="payments-{timezone.localdate()}.csv"'
    header, *rows = csv_rows(response)
    amount, currency = header.index("amount"), header.index("currency")
    for row in rows:
        decimals = {"JPY": 0, "KWD": 3}.get(row[currency], 2)
        assert -Decimal(row[amount]).as_tuple().exponent == decimals, row
        assert "," not in row[amount]
    events = operator.get("/admin/eventstore/event/export.csv")
    assert f'filename="events-{timezone.localdate()}.csv"' in events["Content-Disposition"]
    header, *rows = csv_rows(events)
    assert {"recorded_at", "occurred_at", "data", "metadata"} <= set(header)
    first = next(row for row in rows if row[header.index("aggregate_type")] == "Payment")  # not the export's record
    assert isinstance(json.loads(first[header.index("data")]), dict)
    assert json.loads(first[header.index("metadata")])["organization_id"]


def test_members_see_only_their_organizations_and_operators_all(client, history):
    organization = PaymentSummary.objects.values_list("organization_id", flat=True).first()
    others = PaymentSummary.objects.exclude(organization_id=organization)
    assert others.exists(), "the history should span several organizations"
    client.force_login(finance_user("mia", organizations=[organization]))

    listing = client.get("/admin/payments/paymentsummary/")
    shown = {payment.organization_id for payment in listing.context["cl"].result_list}
    assert shown == {organization}
    assert other_organizations_absent(listing.content.decode(), others)
    assert client.get(f"/admin/payments/paymentsummary/{others.first().payment_id}/change/").status_code == 404
    assert {row[1] for row in csv_rows(client.get("/admin/payments/paymentsummary/export.csv"))[1:]} == {organization}

    events = client.get("/admin/eventstore/event/").context["cl"].result_list
    assert events and {event.metadata["organization_id"] for event in events} == {organization}
    hidden = Event.objects.exclude(metadata__organization_id=organization).first()
    refused = client.get(f"/admin/eventstore/event/{hidden.position}/change/")  # the admin's "does not exist"
    assert refused.status_code == 302 and refused["Location"] == "/admin/"
    assert client.get(f"/admin/timeline/{hidden.metadata['correlation_id']}/").status_code == 404

    client.force_login(finance_user("nobody", organizations=["org-without-payments"]))
    assert client.get("/admin/payments/paymentsummary/").context["cl"].result_count == 0

    client.force_login(finance_user("otto"))  # view_all_organizations
    assert client.get("/admin/payments/paymentsummary/").context["cl"].result_count == PaymentSummary.objects.count()


def other_organizations_absent(html: str, others) -> bool:
    """No other organization's id in the page, the organization filter's choices included."""
    return not any(f">{other}<" in html for other in set(others.values_list("organization_id", flat=True)))


def test_create_finance_user_makes_members_and_operators(client, history):
    organization = PaymentSummary.objects.values_list("organization_id", flat=True).first()
    out = io.StringIO()
    call_command("create_finance_user", "fin", "--organization", organization, "--password", "s3cret-pw!", stdout=out)
    assert organization in out.getvalue()
    user = get_user_model().objects.get(username="fin")
    assert user.check_password("s3cret-pw!") and user.is_staff
    client.force_login(user)
    listing = client.get("/admin/payments/paymentsummary/").context["cl"]
    assert {payment.organization_id for payment in listing.result_list} == {organization}

    call_command("create_finance_user", "ops", "--all-organizations", stdout=io.StringIO())
    assert get_user_model().objects.get(username="ops").has_perm("payments.view_all_organizations")
    with pytest.raises(Exception, match="--organization"):
        call_command("create_finance_user", "lost", stdout=io.StringIO())
