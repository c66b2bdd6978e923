"""The demo data: a year of business with its rhythm, orders inside one organization, corrections
recorded after everything else; loaded through the real pipeline into organizations that exist, and
by the stack's own command only while none is loaded."""

import subprocess
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from config.devstack import demo
from config.devstack.stack import BASE_DIR, DEMO
from eventstore import selectors
from eventstore.events import ExpectedVersion
from eventstore.models import Event
from eventstore.store import append_events
from payments.models import Organization
from tests.eventstore.helpers import payment_events
from tests.processes import command_env

TODAY = date(2026, 11, 26)


def business_time(command) -> datetime:
    return datetime.fromisoformat(command.occurred_at)


def test_a_year_of_business_with_a_weekly_and_seasonal_rhythm():
    plan = demo.demo_plan(1200, TODAY)
    creates = [business_time(commands[0]) for commands in plan.payments]
    start, end = datetime(2025, 11, 26, tzinfo=UTC), datetime(2026, 11, 26, tzinfo=UTC)

    assert all(start <= moment < end for moment in creates)
    assert len({(moment.year, moment.month) for moment in creates}) >= 12
    by_weekday = Counter(moment.weekday() for moment in creates)
    assert min(by_weekday[day] for day in range(5)) > 2 * max(by_weekday[5], by_weekday[6])
    by_month = Counter(moment.month for moment in creates)
    assert by_month[12] > by_month[8]


def test_refunds_come_days_later_and_orders_stay_in_one_organization():
    plan = demo.demo_plan(600, TODAY)
    refunds = [(business_time(c) - business_time(commands[0])) for commands in plan.payments for c in commands
               if c.type == "REFUND" and c.description != "Refund beyond the balance (refused)"]
    assert refunds and sum(delay >= timedelta(days=1) for delay in refunds) > 0.8 * len(refunds)
    organizations_of = {}
    for commands in plan.payments:
        for command in commands:
            organizations_of.setdefault(command.correlation_id, set()).add(command.organization_id)
    assert all(len(organizations) == 1 for organizations in organizations_of.values())
    assert max(Counter(c[0].correlation_id for c in plan.payments).values()) == demo.ORDER_SIZE


def test_corrections_are_dated_at_a_closed_month_end():
    plan = demo.demo_plan(600, TODAY)
    assert len(plan.corrections) >= 5
    for fix in plan.corrections:
        moment = business_time(fix)
        assert (moment + timedelta(days=1)).day == 1 and moment < datetime(2026, 11, 1, tzinfo=UTC)
        assert "Correction after the close" in fix.description
    assert demo.demo_plan(600, TODAY) == plan  # the same day, the same commands


@pytest.mark.django_db(transaction=True)
def test_load_demo_data_runs_through_temporal_into_existing_organizations(temporal, settings, capsys):
    settings.TEMPORAL_TASK_QUEUE = temporal.task_queue
    demo.load_demo_data(payments=40, concurrency=8)

    assert set(Organization.objects.values_list("id", flat=True)) >= set(demo.ORGANIZATIONS)
    processed = Event.objects.filter(stream_id__startswith=demo.DEMO_PREFIX, event_type="PaymentProcessed")
    assert processed.count() == 40
    assert set(processed.values_list("metadata__organization_id", flat=True)) <= set(demo.ORGANIZATIONS)
    occurred = [datetime.fromisoformat(data["occurred_at"]) for data in processed.values_list("data", flat=True)]
    assert max(occurred) - min(occurred) > timedelta(days=60)
    streams = Event.objects.filter(stream_id__startswith=demo.DEMO_PREFIX).values_list("stream_id", flat=True)
    read = [event for stream_id in set(streams) for event in selectors.read_stream(stream_id)]  # descriptions decrypted
    corrections = [event for event in read if event.data.get("description", "").startswith("Correction after the close")]
    assert len(corrections) == len(demo.demo_plan(40, timezone.now().date()).corrections)
    if corrections:
        assert max(event.position for event in corrections) == max(event.position for event in read)
    assert "Loaded 40 demo payments" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)  # the command, another process, sees what is committed
def test_the_stacks_own_command_loads_nothing_when_demo_payments_exist():
    """What `make run` runs on every start: after the first, it leaves the demo data alone (and
    needs no Temporal to say so)."""
    payment_id = demo.demo_payment_id(1)
    append_events(stream_id=payment_id, aggregate_type="Payment", events=payment_events(1, payment_id=payment_id),
                  expected_version=ExpectedVersion.NO_STREAM)

    loader = subprocess.run([*DEMO, "--if-empty"], cwd=BASE_DIR, env=command_env(), capture_output=True, text=True,
                            timeout=120)

    assert loader.returncode == 0, loader.stdout + loader.stderr
    assert loader.stdout.strip() == "Demo payments are already loaded."
    assert not Organization.objects.filter(id__in=demo.ORGANIZATIONS).exists()
