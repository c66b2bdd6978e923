"""/readyz in the process, against the real PostgreSQL and the session's Temporal worker: a
projection behind by more than HEALTH_PROJECTION_MAX_LAG_SECONDS makes the process unready, and
catching up makes it ready again. The projections are driven here, not by a catch-up loop."""

import pytest

from eventstore.projections.engine import apply_all_pending
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)  # the projections' lag counts committed events only


def readiness(client) -> tuple[int, dict]:
    response = client.get("/readyz")
    return response.status_code, response.json()


def test_readiness_fails_naming_the_projections_behind_and_returns_once_they_catch_up(
    temporal, client, settings, random_lives
):
    settings.HEALTH_PROJECTION_MAX_LAG_SECONDS = 0  # any unapplied event is too old
    # The session's worker may not have polled its task queue yet.
    assert wait_for(lambda: readiness(client)[0] == 200), readiness(client)

    random_lives(3)  # appended without applying any projection
    behind_status, behind = readiness(client)
    apply_all_pending()
    caught_up_status, caught_up = readiness(client)

    assert behind_status == 503 and behind["status"] == "unavailable"
    assert behind["checks"]["database"] == {"ok": True} and behind["checks"]["temporal"] == {"ok": True}
    projections = behind["checks"]["projections"]
    assert not projections["ok"]
    assert "payment_summary" in projections["problem"] and "payment_snapshots" in projections["problem"]
    assert caught_up_status == 200 and caught_up["status"] == "ok"
    assert caught_up["checks"]["projections"] == {"ok": True}
