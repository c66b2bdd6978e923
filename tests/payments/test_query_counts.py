"""What a request costs in database round trips: an API token with its permissions and organizations
in one query, a revoked token refused on the very next request, and the hot pages (a payment's history
and events search through the API, a payment's admin page, the analytics dashboard and its operations
panel) each within a fixed number of queries, whatever the history holds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from eventstore.projections.engine import apply_all_pending
from payments import tokens
from payments.models import ApiToken, PaymentSummary

pytestmark = pytest.mark.django_db(transaction=True)

# Round trips per request, counted once each page worked as it should; a page that goes back to a
# query per event, per field or per permission fails here.
# The API: the caller, the payment or nothing, the events, one key lookup for their personal fields,
# the page's ledger places. A payment's admin page: the session, the user and their permissions (two),
# the payment with its organization's time zone and whether approvals name it, its events, one key
# lookup, its ledger places. The dashboard:
# those of the session, the organizations' time zones, statistics and trend; its operations panel,
# fetched apart: each check once (the projections' lag in one statement).
HISTORY_API, SEARCH_API, ADMIN_PAYMENT, DASHBOARD, OPERATIONS_PANEL = 5, 4, 8, 7, 23


def queries_of(client, path: str, params=None) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params or {})
    assert response.status_code == 200, response.content[:300]
    return [query["sql"] for query in captured.captured_queries]


@pytest.fixture
def history(random_commands):
    random_commands(80, payments=8)
    apply_all_pending()
    payment = PaymentSummary.objects.filter(version__gte=2).order_by("-version").first()
    return payment.payment_id, payment.organization_id


def test_the_api_reads_a_token_and_its_permissions_in_one_query_and_a_revoked_one_is_refused_at_once(
        history, api_client_for):
    payment, organization = history
    client = api_client_for("alice", organization)
    client.get(f"/api/payments/{payment}/history/")  # last use marked: at most once a minute

    history_queries = queries_of(client, f"/api/payments/{payment}/history/")
    search_queries = queries_of(client, "/api/events/", {"event_type": "PaymentRefunded"})

    for queries in (history_queries, search_queries):
        about_the_caller = [sql for sql in queries if any(table in sql for table in (
            "payments_apitoken", "auth_permission", "payments_membership", "auth_user"))]
        assert len(about_the_caller) == 1, about_the_caller
    assert len(history_queries) <= HISTORY_API, history_queries
    assert len(search_queries) <= SEARCH_API, search_queries
    tokens.revoke_api_tokens(ApiToken.objects.filter(user__username="alice"))
    refused = client.get(f"/api/payments/{payment}/history/")
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]["message"]


def test_the_admin_payment_page_and_the_dashboard_in_a_fixed_number_of_queries(history, client, finance_user):
    payment, _ = history
    client.force_login(finance_user)
    client.get("/admin/analytics/dashboard/")

    assert len(queries_of(client, f"/admin/payments/paymentsummary/{payment}/change/")) <= ADMIN_PAYMENT
    assert len(queries_of(client, "/admin/analytics/dashboard/")) <= DASHBOARD
    assert len(queries_of(client, "/admin/analytics/dashboard/operations/", {"part": "panel"})) <= OPERATIONS_PANEL
