"""The web server as `make run` serves it: gunicorn with DEBUG off, a bounded number of database
connections under bursts, unauthenticated floods throttled per address, branded error pages and
JSON errors under /api/, health, readiness and status, and metrics only for whoever holds the token."""

import http.client
import json
import secrets
import uuid
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError
from django.test import RequestFactory
from django.utils.functional import SimpleLazyObject

from config.error_pages import server_error
from payments.tokens import issue_api_token
from tests.web_server import ConnectionSampler, burst, get, production_web_server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]

WEB_PROCESSES, POOL_SIZE = 2, 3
METRICS_TOKEN = "scrape-" + uuid.uuid4().hex


@pytest.fixture
def token():
    user = get_user_model().objects.create_user("burst-reader")
    return issue_api_token(user=user, name="burst", all_organizations=True).key


@pytest.fixture
def server(temporal):
    with production_web_server(WEB_PROCESSES=str(WEB_PROCESSES), DATABASE_POOL_SIZE=str(POOL_SIZE),
                               API_ANON_RATE="30/min", API_USER_RATE="1000000/min", METRICS_TOKEN=METRICS_TOKEN) as base:
        yield base


def test_bursts_stay_within_the_connection_budget_and_every_request_gets_an_answer(server, token):
    url = f"{server}/api/payments/"
    with ConnectionSampler() as connections:
        authenticated = [burst(url, {"Authorization": f"Token {token}"}) for _ in range(3)]
        bogus = burst(url, {"Authorization": "Token " + "0" * 40})
        anonymous = burst(url, {})

    assert all(status == 200 for each in authenticated for status in each)
    assert set(bogus) <= {401, 429} and set(anonymous) <= {401, 429}
    # 30 unauthenticated answers a minute per address and process (each counts in its own cache, as
    # `make run` configures it); requests already in flight may pass it by one each
    assert bogus.count(401) + anonymous.count(401) <= 30 * WEB_PROCESSES + WEB_PROCESSES * POOL_SIZE
    assert anonymous.count(429) > 0
    assert 0 < connections.most <= WEB_PROCESSES * POOL_SIZE


def test_debug_is_off_and_errors_are_the_admins_pages_or_json_under_the_api(server):
    status, page, _ = get(f"{server}/no-such-page/")
    api_status, api_body, headers = get(f"{server}/api/no-such-endpoint/")

    assert status == 404
    assert b"Page not found" in page and b"Back to the admin" in page and b"URLconf" not in page
    assert b"/static/admin/css/base" in page  # the admin's look, served by WhiteNoise
    assert api_status == 404 and headers["Content-Type"] == "application/json"
    assert json.loads(api_body)["error"]["code"] == "not_found"


def test_gunicorn_serves_the_production_settings_when_no_settings_module_is_named():
    """As the README's Procfile starts it: DEBUG on in the environment changes nothing, plain HTTP goes
    to HTTPS, and a request the proxy marks as HTTPS (X-Forwarded-Proto) is served."""
    with production_web_server(unset=("DJANGO_SETTINGS_MODULE",), DEBUG="True", WEB_PROCESSES="1",
                               SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="127.0.0.1") as base:
        plain = first_answer(f"{base}/admin/")
        behind_the_proxy = first_answer(f"{base}/admin/", {"X-Forwarded-Proto": "https"})
        missing = first_answer(f"{base}/no-such-page/", {"X-Forwarded-Proto": "https"})

    assert plain[0] == 301 and plain[1].startswith("https://127.0.0.1:")
    assert behind_the_proxy[0] == 302 and behind_the_proxy[1].startswith("/admin/login/")
    assert missing[0] == 404 and "URLconf" not in missing[2]


def first_answer(url: str, headers: dict | None = None) -> tuple[int, str, str]:
    """Status, Location and body of a GET, redirects not followed."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=60)
    try:
        connection.request("GET", parts.path, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, answer.getheader("Location", ""), answer.read().decode()
    finally:
        connection.close()


def test_an_unknown_host_is_a_400_in_json_under_the_api_and_a_page_elsewhere(server):
    status, body, headers = get(f"{server}/api/payments/", {"Host": "evil.example"})
    page_status, page, _ = get(f"{server}/admin/", {"Host": "evil.example"})

    assert status == 400 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "bad_request"
    assert page_status == 400 and b"400 Bad request" in page and b"Back to the admin" in page


def test_a_server_error_is_json_under_the_api_and_a_page_elsewhere():
    factory = RequestFactory()

    api = server_error(factory.get("/api/payments/"))
    page = server_error(factory.get("/admin/payments/"))

    assert api.status_code == 500 and json.loads(api.content)["error"]["code"] == "server_error"
    assert page.status_code == 500 and b"Something went wrong" in page.content and b"Back to the admin" in page.content


def test_the_server_error_page_reads_nothing_from_the_database():
    """With the database down, the user behind a session cookie cannot be read: the page must not ask."""
    request = RequestFactory().get("/admin/payments/")
    request.user = SimpleLazyObject(_database_down)

    page = server_error(request)

    assert page.status_code == 500 and b"Something went wrong" in page.content and b"Back to the admin" in page.content


def _database_down():
    raise OperationalError("couldn't get a connection")


def test_health_and_readiness_answer_without_login(server):
    health = get(f"{server}/healthz")
    ready = get(f"{server}/readyz")

    assert health[0] == 200 and json.loads(health[1]) == {"status": "ok"}
    assert ready[0] == 200, ready[1]
    assert json.loads(ready[1])["checks"] == {"database": {"ok": True}}


def test_without_a_worker_the_server_stays_ready_and_its_status_names_the_worker(temporal):
    with production_web_server(TEMPORAL_TASK_QUEUE=f"nobody-polls-{uuid.uuid4()}", METRICS_TOKEN=METRICS_TOKEN) as base:
        ready = get(f"{base}/readyz")
        anonymous = get(f"{base}/status")
        status, body, _ = get(f"{base}/status", {"Authorization": f"Bearer {METRICS_TOKEN}"})

    answer = json.loads(body)
    assert ready[0] == 200, ready[1]
    assert anonymous[0] == 401
    assert status == 503 and answer["ok"] is False and answer["checks"]["temporal"]["ok"] is True
    assert "no worker polled the task queue" in answer["checks"]["worker"]["problem"]


def test_metrics_are_only_for_the_token_holder_and_count_requests_by_view(server, token):
    get(f"{server}/api/payments/", {"Authorization": f"Token {token}"})

    anonymous = get(f"{server}/metrics")
    wrong = get(f"{server}/metrics", {"Authorization": "Bearer guess"})
    status, body, _ = get(f"{server}/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"})

    text = body.decode()
    assert anonymous[0] == 404 and wrong[0] == 404 and status == 200
    assert 'payments_http_requests_total{method="GET",status="200",view="payment-list"}' in text
    assert "payments_http_request_duration_seconds_bucket" in text and "payments_http_request_db_seconds_sum" in text
    assert 'eventstore_projection_lag_events{projection="payment_summary"} 0.0' in text
