"""Password guessing on the admin login is locked out, and the API's throttles are on, per client
address: a forged X-Forwarded-For escapes no limit, and behind a proxy a lockout holds the client's
address, not the proxy's."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


def attempt(client, password: str, username: str = "clerk", **headers):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"}, **headers)


def forged(n: int) -> dict:
    """A new X-Forwarded-For on each request, as a client escaping a per-address limit would send."""
    return {"HTTP_X_FORWARDED_FOR": f"203.0.113.{n}"}


def test_admin_login_locks_out_after_repeated_failures(client, settings):
    get_user_model().objects.create_user("clerk", password="the-right-password", is_staff=True)

    failures = [attempt(client, f"guess-{n}").status_code for n in range(settings.AXES_FAILURE_LIMIT - 1)]
    locked = attempt(client, "guess-last")
    correct_but_locked = attempt(client, "the-right-password")

    assert failures == [200] * (settings.AXES_FAILURE_LIMIT - 1)  # the form again, with its error
    assert locked.status_code == 429
    assert correct_but_locked.status_code == 429
    assert b"Too many failed logins" in correct_but_locked.content
    assert b"Payments audit trail" in correct_but_locked.content
    assert "_auth_user_id" not in client.session


def test_a_lockout_is_per_username_and_a_success_resets_the_count(client, settings):
    get_user_model().objects.create_user("clerk", password="the-right-password", is_staff=True)
    get_user_model().objects.create_user("auditor", password="another-password", is_staff=True)
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, f"guess-{n}")

    assert attempt(client, "the-right-password").status_code == 302  # one short of the limit: let in
    client.logout()
    assert attempt(client, "guess-again").status_code == 200  # the count started over
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, f"guess-{n}")
    assert attempt(client, "the-right-password").status_code == 429
    assert attempt(client, "another-password", username="auditor").status_code == 302


def test_api_requests_are_throttled_per_user(monkeypatch, api_client_for):
    monkeypatch.setattr(UserRateThrottle, "rate", "3/min", raising=False)
    api = api_client_for("reader", "org-acme")

    statuses = [api.get("/api/events/").status_code for _ in range(4)]
    refused = api.get("/api/events/")

    assert statuses == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert refused["Retry-After"]
    assert "throttled" in refused.json()["error"]["code"]


def test_without_a_proxy_a_forged_forwarded_for_does_not_escape_the_flood_limit(client, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "rate", "3/day", raising=False)

    statuses = [client.get("/api/events/", **forged(n)).status_code for n in range(4)]

    assert statuses == [401, 401, 401, 429]


def test_without_a_proxy_a_forged_forwarded_for_does_not_escape_the_anonymous_throttle(client, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "rate", "3/day", raising=False)

    statuses = [client.get("/api/docs/", **forged(n)).status_code for n in range(4)]

    assert statuses == [200, 200, 200, 429]


def test_behind_a_proxy_a_lockout_holds_the_clients_address_not_the_user_everywhere(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    get_user_model().objects.create_user("clerk", password="the-right-password", is_staff=True)
    guesser = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "203.0.113.9, 198.51.100.7"}
    colleague = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "198.51.100.8"}  # through the same proxy

    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, f"guess-{n}", **guesser)

    assert attempt(client, "the-right-password", **guesser).status_code == 429
    assert attempt(client, "the-right-password", **colleague).status_code == 302
