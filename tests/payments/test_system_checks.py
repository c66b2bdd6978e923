"""check_consistency (the chaos run's judge) catches each kind of damage it is meant to catch."""

import uuid

import pytest
from django.core.management import call_command

from eventstore.events import NewEvent
from eventstore.integrity import verification as integrity
from eventstore.projections import engine as projections
from eventstore.store import append_events
from payments import system_checks
from payments.domain import AGGREGATE_TYPE
from payments.models import PaymentSummary

pytestmark = pytest.mark.django_db(transaction=True)


def command(payment_id: str, key: str, event_type: str = "PaymentProcessed", data=None, version: int = 0) -> list[str]:
    data = data or {"payment_id": payment_id, "amount": "10.00", "currency": "EUR", "organization_id": "org-1",
                    "user_id": "u", "description": ""}
    stored = append_events(stream_id=payment_id, aggregate_type=AGGREGATE_TYPE, expected_version=version,
                           events=[NewEvent(event_type, data, {"causation_id": key})])
    return [str(event.event_id) for event in stored.events]


CANCELLED = {"payment_id": "payment-a", "user_id": "u", "amount": "10.00", "currency": "EUR"}


def caught_up() -> None:
    for projection in projections.registered().values():
        projections.apply_pending(projection, wait=True)


def test_a_clean_history_passes_every_check():
    first = command("payment-a", "key-1")
    caught_up()
    checks = system_checks.run_all([{"key": "key-1", "outcome": "accepted", "event_ids": first}], projection_timeout=5)
    assert [check.problems for check in checks] == [[]] * len(checks)


def test_events_other_than_those_answered_are_caught():
    first = command("payment-a", "key-1")
    command("payment-a", "key-2", "PaymentCancelled", CANCELLED, version=1)  # refused, yet written
    command("payment-b", "key-3")  # sent by nobody
    ledger = [
        {"key": "key-1", "outcome": "accepted", "event_ids": [*first, str(uuid.uuid4())]},  # one event missing
        {"key": "key-2", "outcome": "refused"},
    ]
    problems = system_checks.check_commands(ledger).problems
    assert len(problems) == 3
    assert "key-1" in problems[0] and "key-2" in problems[1] and "key-3" in problems[2]


def test_a_gap_in_a_stream_is_caught(tamper):
    command("payment-a", "key-1")
    command("payment-a", "key-2", "PaymentCancelled", CANCELLED, version=1)
    tamper("DELETE FROM eventstore_event WHERE stream_id = 'payment-a' AND version = 1")
    assert integrity.check_streams().problems == ["payment-a: 1 events, versions 2..2, 1 distinct"]
    assert not integrity.check_chain().ok


def test_a_projection_left_behind_and_a_wrong_summary_are_caught():
    command("payment-a", "key-1")
    assert not integrity.check_projections_caught_up(timeout=0.5).ok  # nobody applies the projections here
    caught_up()
    assert integrity.check_projections_caught_up(timeout=0.5).ok
    PaymentSummary.objects.filter(payment_id="payment-a").update(refunded="5.00")
    assert "payment-a" in system_checks.check_summaries().problems[0]


def test_the_command_exits_1_on_a_problem(tmp_path):
    command("payment-a", "key-1")
    caught_up()
    ledger = tmp_path / "ledger.json"
    ledger.write_text('[{"key": "key-1", "outcome": "refused"}]')
    with pytest.raises(SystemExit) as exit_info:
        call_command("check_consistency", "--ledger", str(ledger), "--projection-timeout", "1")
    assert exit_info.value.code == 1
