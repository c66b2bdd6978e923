"""A finance user a superuser has just made (staff, in the finance group, no organization yet) walks
the admin: every page answers, empty and explained, and shows no organization's data."""

import html
import re

import pytest

from eventstore.models import Event
from eventstore.projections.engine import apply_all_pending
from payments.models import PaymentSummary
from tests.admin_users import finance_user

pytestmark = pytest.mark.django_db(transaction=True)

PAYMENTS = "/admin/payments/paymentsummary/"
HINT = "Ask an administrator to add you to an organization"
NOT_PAGES = ("/admin/logout/", "/admin/password_change/", "/admin/jsi18n/")


@pytest.fixture
def newcomer(client, random_commands):
    random_commands(60, payments=10)
    apply_all_pending()
    client.force_login(finance_user("newcomer", organizations=[]))
    client.raise_request_exception = False  # a failing page is a 500 to count, as a browser would get
    return client


def admin_links(page) -> set[str]:
    """The admin pages a page links to, without logging out or changing the password."""
    links = {html.unescape(link) for link in re.findall(r'href="(/admin/[^"#]*)"', page.content.decode())}
    return {link for link in links if not link.startswith(NOT_PAGES) and not link.endswith("export.csv")}


def filter_links(path: str, page) -> set[str]:
    """The list filters' choices (and sorting) of a change list, as URLs."""
    return {path + html.unescape(query) for query in re.findall(r'href="(\?[^"#]*)"', page.content.decode())}


def test_every_admin_page_answers_a_user_without_organization(newcomer):
    index = newcomer.get("/admin/")
    assert index.status_code == 200
    pages = admin_links(index)
    assert PAYMENTS in pages and "/admin/eventstore/event/" in pages and "/admin/analytics/dashboard/" in pages

    answers = {}
    for path in sorted(pages):
        page = newcomer.get(path)
        answers[path] = page.status_code
        if page.status_code == 200 and "cl" in (page.context or {}):  # a change list: each filter too
            answers.update({url: newcomer.get(url).status_code for url in sorted(filter_links(path, page))})
    assert {url: status for url, status in answers.items() if status >= 500} == {}
    assert_no_organization_shown(newcomer)


def assert_no_organization_shown(client):
    """An existing payment's page, event's page and timeline are the admin's "not found"."""
    payment, event = PaymentSummary.objects.first(), Event.objects.first()
    assert client.get(f"{PAYMENTS}{payment.payment_id}/change/").status_code == 404
    refused = client.get(f"/admin/eventstore/event/{event.position}/change/")  # the admin's "does not exist"
    assert refused.status_code == 302 and refused["Location"] == "/admin/"
    assert client.get(f"/admin/timeline/{event.metadata['correlation_id']}/").status_code == 404


def test_the_payments_list_is_empty_and_says_why(newcomer):
    listing = newcomer.get(PAYMENTS)

    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 0
    assert HINT in listing.content.decode()
    for payment in PaymentSummary.objects.all():
        assert payment.payment_id not in listing.content.decode()
        assert payment.organization_id not in listing.content.decode()

    member = finance_user("member", organizations=[PaymentSummary.objects.first().organization_id])
    newcomer.force_login(member)
    assert HINT not in newcomer.get(PAYMENTS).content.decode()


def test_the_index_says_why_there_is_nothing_to_see(newcomer):
    assert HINT in newcomer.get("/admin/").content.decode()


def test_an_action_posted_to_the_payments_list_answers_and_changes_nothing(newcomer):
    payment = PaymentSummary.objects.first()

    answer = newcomer.post(PAYMENTS, {"action": "delete_selected", "_selected_action": [payment.payment_id],
                                      "index": "0"})

    assert answer.status_code < 500
    assert PaymentSummary.objects.filter(payment_id=payment.payment_id).exists()
