"""Declared schedules: the worker creates or updates one Temporal Schedule each, and on a fresh store
they sign tree heads and record verifications on their own."""

import time
from datetime import timedelta

import pytest

from eventstore import registry
from eventstore.events import ANY
from eventstore.integrity.models import ChainVerification
from eventstore.ledger.models import TreeHead
from eventstore.store import append_events
from eventstore.temporal.worker import ensure_schedules
from tests.eventstore.helpers import payment_events

pytestmark = pytest.mark.django_db(transaction=True)
SCHEDULE_IDS = ["sign-tree-head", "verify-event-chain", "verify-event-chain-full"]


@pytest.fixture
def schedules(temporal):
    """Ensures the declared schedules on the suite's task queue and deletes them afterwards."""

    def ensure() -> list[str]:
        return temporal.run(ensure_schedules(temporal.client, temporal.task_queue))

    yield ensure
    for schedule_id in SCHEDULE_IDS:
        temporal.run(temporal.client.get_schedule_handle(schedule_id).delete())


def interval_of(temporal, schedule_id: str) -> timedelta:
    description = temporal.run(temporal.client.get_schedule_handle(schedule_id).describe())
    return description.schedule.spec.intervals[0].every


def test_the_store_declares_signing_and_verification_schedules():
    declared = {schedule.schedule_id: schedule.interval_setting for schedule in registry.schedules()}
    assert declared == {"sign-tree-head": "LEDGER_SIGN_INTERVAL", "verify-event-chain": "VERIFY_INTERVAL",
                        "verify-event-chain-full": "VERIFY_FULL_INTERVAL"}


def test_ensuring_twice_creates_once_and_takes_the_new_interval(temporal, schedules, settings):
    settings.LEDGER_SIGN_INTERVAL, settings.VERIFY_INTERVAL, settings.VERIFY_FULL_INTERVAL = 3600, 7200, 86400
    assert schedules() == SCHEDULE_IDS
    settings.LEDGER_SIGN_INTERVAL = 1800
    assert schedules() == SCHEDULE_IDS
    assert interval_of(temporal, "sign-tree-head") == timedelta(seconds=1800)
    assert interval_of(temporal, "verify-event-chain") == timedelta(seconds=7200)
    assert interval_of(temporal, "verify-event-chain-full") == timedelta(seconds=86400)


@pytest.mark.timeout(240)
def test_a_fresh_store_gets_a_signed_head_and_a_verification_at_once(temporal, schedules, settings, ledger_key):
    """Not after a whole interval: a new schedule runs once when it is created."""
    append_events(stream_id="payment-s", aggregate_type="Payment", events=payment_events(3), expected_version=ANY)
    settings.LEDGER_SIGN_INTERVAL, settings.VERIFY_INTERVAL, settings.VERIFY_FULL_INTERVAL = 3600, 3600, 3600
    schedules()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not (TreeHead.objects.exists() and ChainVerification.objects.exists()):
        time.sleep(0.5)
    assert TreeHead.objects.get().tree_size == 3
    assert ChainVerification.objects.latest().ok
