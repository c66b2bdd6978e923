"""/healthz, /readyz and /status in the process, against the real PostgreSQL and the session's
Temporal server: readiness is about this web process only (its database and migrations), while
/status, for operators, names a missing worker, projections behind, an old or failed verification and
events no signed head covers. The projections are driven here, not by a catch-up loop."""

import contextlib
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from config.devstack.embedded import free_port
from eventstore.integrity.incremental import verify_new_events
from eventstore.integrity.verification import verify_event_chain
from eventstore.ledger.service import sign_tree_head
from eventstore.projections.engine import apply_all_pending
from tests import admin_users
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)  # the projections' lag counts committed events only

METRICS_TOKEN = "scrape-" + uuid.uuid4().hex


def answer(client, path: str, **headers) -> tuple[int, dict]:
    response = client.get(path, headers=headers)
    return response.status_code, response.json()


@pytest.fixture
def operator(client):
    """The test client, logged in as a staff user."""
    client.force_login(admin_users.finance_user())
    return client


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = METRICS_TOKEN
    return METRICS_TOKEN


def test_readiness_ignores_a_missing_worker_and_projections_behind_which_status_names(
    temporal, operator, settings, random_lives
):
    settings.TEMPORAL_TASK_QUEUE = f"nobody-polls-{uuid.uuid4()}"  # no worker runs for it
    settings.HEALTH_PROJECTION_MAX_LAG_SECONDS = 0  # any unapplied event is too old
    random_lives(3)  # appended without applying any projection

    ready_status, ready = answer(operator, "/readyz")
    behind_status, behind = answer(operator, "/status")
    apply_all_pending()
    caught_up = answer(operator, "/status")[1]

    assert ready_status == 200 and ready == {"status": "ok", "checks": {"database": {"ok": True}}}
    assert behind_status == 503 and behind["ok"] is False
    checks = behind["checks"]
    assert checks["temporal"]["ok"] is True
    assert not checks["worker"]["ok"] and checks["worker"]["pollers"] == 0
    assert "no worker polled the task queue" in checks["worker"]["problem"]
    assert not checks["projections"]["ok"]
    assert "payment_summary" in checks["projections"]["problem"] and "payment_snapshots" in checks["projections"]["problem"]
    assert checks["projections"]["projections"]["payment_summary"]["events_behind"] > 0
    assert caught_up["checks"]["projections"]["ok"] is True
    assert caught_up["checks"]["projections"]["projections"]["payment_summary"]["events_behind"] == 0


def test_status_is_green_when_every_part_is_well_and_metrics_say_the_same(
    temporal, operator, metrics_token, ledger_key, random_lives
):
    events = random_lives(2)
    apply_all_pending()
    sign_tree_head()
    assert verify_event_chain().ok
    assert verify_new_events().ok
    # The session's worker may not have polled its task queue yet.
    assert wait_for(lambda: answer(operator, "/status")[0] == 200), answer(operator, "/status")

    status, body = answer(operator, "/status")
    scraped = operator.get("/metrics", headers={"Authorization": f"Bearer {metrics_token}"}).content.decode()

    assert status == 200 and body["ok"] is True
    checks = body["checks"]
    assert set(checks) == {"worker", "temporal", "projections", "verification", "signing", "published_heads"}
    assert all(check["ok"] for check in checks.values()), checks
    assert checks["worker"]["pollers"] >= 1
    assert checks["verification"]["intact"] is True and checks["verification"]["age_seconds"] < 60
    assert checks["verification"]["kind"] == "incremental" and checks["verification"]["last_full_intact"] is True
    assert checks["verification"]["last_full_age_seconds"] < 60 and checks["verification"]["last_incremental_age_seconds"] < 60
    assert checks["signing"]["head_tree_size"] == events and checks["signing"]["unsigned_event_age_seconds"] == 0
    for name in checks:
        assert f'eventstore_status_ok{{check="{name}"}} 1.0' in scraped
    assert "eventstore_worker_pollers 0.0" not in scraped and "eventstore_worker_pollers " in scraped
    assert "eventstore_last_signed_head_age_seconds " in scraped and "eventstore_unsigned_event_age_seconds 0.0" in scraped


def test_status_names_a_failed_verification_and_events_no_signed_head_covers(
    temporal, client, metrics_token, settings, ledger_key, random_lives, tamper
):
    settings.HEALTH_SIGNING_MAX_AGE_SECONDS = 0  # any event outside a signed head is too old
    random_lives(1)
    sign_tree_head()
    random_lives(1, prefix="payment-after-the-head")
    tamper("UPDATE eventstore_event SET data = '{\"amount\": \"999.00\"}' WHERE stream_id = 'payment-life-0' AND version = 1")
    verify_event_chain()

    status, body = answer(client, "/status", authorization=f"Bearer {metrics_token}")
    scraped = client.get("/metrics", headers={"Authorization": f"Bearer {metrics_token}"}).content.decode()

    assert status == 503
    verification, signing = body["checks"]["verification"], body["checks"]["signing"]
    assert not verification["ok"] and verification["intact"] is False and "problems" in verification["problem"]
    assert not signing["ok"] and "in no signed tree head" in signing["problem"] and signing["unsigned_event_age_seconds"] >= 0
    assert 'eventstore_status_ok{check="verification"} 0.0' in scraped and "eventstore_last_verification_ok 0.0" in scraped
    assert 'eventstore_status_ok{check="signing"} 0.0' in scraped


def test_status_refuses_anonymous_callers_other_users_and_a_wrong_token(client, metrics_token):
    anonymous = client.get("/status")
    wrong_token = client.get("/status", headers={"Authorization": "Bearer guess"})
    client.force_login(get_user_model().objects.create_user("not-staff", password="pw"))
    not_staff = client.get("/status")

    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == "Bearer"
    assert wrong_token.status_code == 401
    assert not_staff.status_code == 403
    assert all("checks" not in each.json() for each in (anonymous, wrong_token, not_staff))


def test_readiness_fails_while_postgresql_is_unreachable(client):
    with database_at_a_closed_port():
        status, body = answer(client, "/readyz")
    back = answer(client, "/readyz")

    assert status == 503 and body["status"] == "unavailable"
    assert body["checks"]["database"]["problem"].startswith("PostgreSQL is unreachable")
    assert back[0] == 200


def test_readiness_fails_naming_a_migration_the_database_lacks(client):
    with migration_unapplied() as (app, name):
        status, body = answer(client, "/readyz")
    back = answer(client, "/readyz")

    assert status == 503 and body["status"] == "unavailable"
    problem = body["checks"]["database"]["problem"]
    assert problem.startswith("1 migrations are not applied") and f"{app}.{name}" in problem
    assert back[0] == 200


@contextlib.contextmanager
def database_at_a_closed_port():
    """The default connection's settings point at a loopback port nothing listens on."""
    saved = {key: connection.settings_dict[key] for key in ("HOST", "PORT")}
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(free_port()))
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


@contextlib.contextmanager
def migration_unapplied():
    """The newest migration of the store removed from django_migrations, as on a database one release
    behind its code; put back afterwards."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE id = (SELECT max(id) FROM django_migrations"
                       " WHERE app = 'eventstore') RETURNING app, name, applied")
        app, name, applied = cursor.fetchone()
    try:
        yield app, name
    finally:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO django_migrations (app, name, applied) VALUES (%s, %s, %s)", [app, name, applied])
