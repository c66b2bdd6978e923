"""Password guessing on the admin login is locked out, and the API's throttles are on."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.throttling import UserRateThrottle

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


def attempt(client, password: str, username: str = "clerk"):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})


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
