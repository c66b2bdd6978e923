"""deploy/nginx/payments.conf in front of gunicorn with TRUSTED_PROXY_COUNT=1: the flood limit, the
anonymous throttle and the login lockout count per client address nginx saw, whatever X-Forwarded-For
the client forges, so one client's limit or lockout leaves another client alone.

Two client addresses: nginx listens on 127.0.0.1, and every address of 127.0.0.0/8 is this machine's,
so a client socket bound to 127.0.0.2 before it connects reaches nginx as 127.0.0.2 ($remote_addr),
which the site appends to X-Forwarded-For. gunicorn itself only ever sees nginx's connection. The
server's throttle counts outlive a test, so each test has its own pair of addresses.
"""

import contextlib
import re
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from config.devstack.stack import stop
from tests.deploy.nginx.site import client_from, run_nginx
from tests.web_server import production_web_server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

ANON_RATE = 3  # a day: no window ends while a test runs
FAILURE_LIMIT = 3


@pytest.fixture(scope="module")
def site(django_db_setup):
    """The HTTPS base URL of nginx running the shipped site in front of one gunicorn process (so that
    its local-memory cache holds every count)."""
    with contextlib.ExitStack() as running:
        web = running.enter_context(production_web_server(
            TRUSTED_PROXY_COUNT="1", WEB_PROCESSES="1", API_ANON_RATE=f"{ANON_RATE}/day",
            LOGIN_FAILURE_LIMIT=str(FAILURE_LIMIT)))
        directory = Path(running.enter_context(tempfile.TemporaryDirectory(prefix="nginx-")))
        nginx, base = run_nginx(directory, web_port=urlsplit(web).port)
        running.callback(stop, nginx, "nginx")
        yield base


@contextlib.contextmanager
def clients(site, *addresses):
    with contextlib.ExitStack() as open_clients:
        yield [open_clients.enter_context(client_from(address, site)) for address in addresses]


def forged(n: int) -> dict:
    return {"X-Forwarded-For": f"203.0.113.{n}"}


def test_the_flood_limit_counts_the_address_nginx_saw(site):
    with clients(site, "127.0.0.2", "127.0.0.3") as (flooder, neighbour):
        flood = [flooder.get("/api/events/", headers=forged(n)).status_code for n in range(ANON_RATE + 1)]
        other = neighbour.get("/api/events/")

    assert flood == [401] * ANON_RATE + [429]
    assert other.status_code == 401


def test_the_anonymous_throttle_counts_the_address_nginx_saw(site):
    with clients(site, "127.0.0.4", "127.0.0.5") as (reader, neighbour):
        reads = [reader.get("/api/docs/", headers=forged(n)).status_code for n in range(ANON_RATE + 1)]
        other = neighbour.get("/api/docs/")

    assert reads == [200] * ANON_RATE + [429]
    assert other.status_code == 200


def test_a_lockout_holds_the_address_nginx_saw_and_not_the_user_for_everybody(site):
    staff_member("clerk", "the-right-password")
    with clients(site, "127.0.0.6", "127.0.0.7") as (guesser, colleague):
        guesses = [log_in(guesser, "clerk", f"guess-{n}", headers=forged(n)) for n in range(FAILURE_LIMIT)]
        guesser_with_the_password = log_in(guesser, "clerk", "the-right-password")
        colleague_with_the_password = log_in(colleague, "clerk", "the-right-password")

    assert guesses == [200] * (FAILURE_LIMIT - 1) + [429]
    assert guesser_with_the_password == 429
    assert colleague_with_the_password == 302


def test_static_files_pass_through_to_whitenoise(site):
    with clients(site, "127.0.0.8") as (visitor,):
        stylesheet = visitor.get("/static/admin/css/base.css")

    assert stylesheet.status_code == 200 and stylesheet.headers["content-type"].startswith("text/css")


def staff_member(username: str, password: str) -> None:
    """A staff user whose password the server (with Django's default hashers) can check; the suite's
    own hasher is one the server does not know. Few iterations: the failed guesses stay cheap."""
    hasher = PBKDF2PasswordHasher()
    user = get_user_model().objects.create_user(username, is_staff=True)
    user.password = hasher.encode(password, hasher.salt(), iterations=1000)
    user.save(update_fields=["password"])


def log_in(client, username: str, password: str, headers: dict | None = None) -> int:
    """The status of an admin login through the form as a browser sends it: CSRF token, and the
    Referer that Django requires of a form posted over HTTPS."""
    form = client.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    answer = client.post("/admin/login/", headers={"Referer": str(form.url), **(headers or {})},
                         data={"username": username, "password": password, "csrfmiddlewaretoken": token, "next": "/admin/"})
    return answer.status_code
