"""Business time (`occurred_at`) through the workflow, the API and the CLI, and bitemporal reads:
the state as of a business time as known at a recorded time."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from temporalio.client import WorkflowFailureError

from eventstore import selectors as store
from eventstore.models import Event
from payments.selectors import payment_state_as_of

pytestmark = pytest.mark.django_db(transaction=True)


def new_id() -> str:
    return f"payment-bt-{uuid.uuid4().hex[:10]}"


def events_of(payment_id):
    return list(store.read_stream(payment_id))


def test_occurred_at_is_stored_in_utc_and_recorded_at_stays_the_servers_clock(run_command, command_request):
    payment_id = new_id()
    result = run_command(command_request(payment_id=payment_id, occurred_at="2024-03-05T10:30:00+01:00"))

    assert result.success, result.message
    [event] = events_of(payment_id)
    assert event.data["occurred_at"] == "2024-03-05T09:30:00.000000+00:00"
    assert event.metadata["schema_version"] == 2
    assert abs(event.recorded_at - timezone.now()) < timedelta(minutes=2)


@pytest.mark.parametrize("occurred_at", ["tomorrow", "2024-03-05T10:30:00", "2024-02-30T10:00:00Z"])
def test_a_temporal_caller_with_a_malformed_business_time_is_refused_at_once_naming_the_field(
        plain_temporal, occurred_at):
    payment_id = new_id()
    with pytest.raises(WorkflowFailureError) as failure:
        plain_temporal("PaymentEventSourcingWorkflow", {
            "type": "CREATE", "payment_id": payment_id, "organization_id": "org-456", "user_id": "user-789",
            "amount": "1.00", "currency": "EUR", "occurred_at": occurred_at})
    assert "occurred_at" in str(failure.value.cause)
    assert events_of(payment_id) == []


def test_a_business_time_beyond_the_tolerance_is_refused_one_within_it_accepted(run_command, command_request, settings):
    settings.PAYMENTS_OCCURRED_AT_TOLERANCE_SECONDS = 120
    late, soon = new_id(), new_id()
    refused = run_command(command_request(payment_id=late, occurred_at=(timezone.now() + timedelta(hours=1)).isoformat()))
    accepted = run_command(command_request(payment_id=soon, occurred_at=(timezone.now() + timedelta(seconds=30)).isoformat()))

    assert not refused.success and "in the future" in refused.message and events_of(late) == []
    assert accepted.success, accepted.message


@pytest.mark.parametrize("kind, amount", [("REFUND", "10.00"), ("CANCEL", None)])
def test_a_refund_or_cancellation_may_not_precede_its_payment(run_command, command_request, kind, amount):
    payment_id = new_id()
    assert run_command(command_request(payment_id=payment_id, occurred_at="2024-06-10T12:00:00Z")).success
    before = run_command(command_request(kind, payment_id, amount=amount, occurred_at="2024-06-10T11:59:59Z"))
    same_time = run_command(command_request(kind, payment_id, amount=amount, occurred_at="2024-06-10T12:00:00Z"))

    assert not before.success and "before the payment itself" in before.message
    assert same_time.success, same_time.message
    assert [event.data["occurred_at"] for event in events_of(payment_id)] == [
        "2024-06-10T12:00:00.000000+00:00", "2024-06-10T12:00:00.000000+00:00"]


def test_the_api_takes_occurred_at_and_refuses_bad_ones_with_400(tenants):
    def create(occurred_at):
        return tenants.acme.post("/api/payments/commands/", {
            "type": "CREATE", "organization_id": "org-acme", "amount": "12.00", "currency": "EUR",
            "occurred_at": occurred_at}, format="json")

    created = create("2024-02-29T23:30:00-02:00")
    assert created.status_code == 201, created.json()
    [event] = events_of(created.json()["payment_id"])
    assert event.data["occurred_at"] == "2024-03-01T01:30:00.000000+00:00"
    for bad in ("2024-02-30T10:00:00Z", "2024-03-01 10:00", "last Tuesday"):
        answer = create(bad)
        assert answer.status_code == 400 and "occurred_at" in answer.json()["error"]["message"], (bad, answer.json())
    future = create((timezone.now() + timedelta(days=2)).isoformat())
    assert future.status_code == 422 and "in the future" in future.json()["error"]["message"]
    refund = tenants.acme.post("/api/payments/commands/", {
        "type": "REFUND", "payment_id": created.json()["payment_id"], "organization_id": "org-acme",
        "amount": "1.00", "occurred_at": "2024-01-01T00:00:00Z"}, format="json")
    assert refund.status_code == 422 and "before the payment itself" in refund.json()["error"]["message"]


def test_the_cli_takes_occurred_at(temporal, settings):
    settings.TEMPORAL_TASK_QUEUE = temporal.task_queue
    payment_id = new_id()
    call_command("payment_command", "CREATE", payment_id, "--organization", "org-cli", "--user", "u1",
                 "--amount", "5.00", "--currency", "EUR", "--occurred-at", "2024-07-01T08:00:00+02:00")
    assert events_of(payment_id)[0].data["occurred_at"] == "2024-07-01T06:00:00.000000+00:00"
    with pytest.raises(CommandError, match="in the future"):
        call_command("payment_command", "REFUND", payment_id, "--organization", "org-cli", "--user", "u1",
                     "--amount", "1.00", "--occurred-at", "2999-01-01T00:00:00Z")


def test_seed_scenario_events_by_type_in_2024_by_business_time(run_concurrently, command_request, plain_temporal):
    results = run_concurrently([command_request(amount=amount, currency=currency, organization_id="org-seed-2024",
                                                occurred_at=occurred_at)
                                for amount, currency, occurred_at in (("100.00", "EUR", "2024-01-15T09:00:00Z"),
                                                                      ("200.00", "USD", "2024-06-30T23:59:59+00:00"),
                                                                      ("300.00", "EUR", "2024-12-31T10:00:00Z"))])
    assert all(result.success for result in results)
    mine = {result.payment_id for result in results}

    def found(**axis):
        return {event.stream_id for event in store.events_by_type(
            "PaymentProcessed", since=datetime(2024, 1, 1, tzinfo=UTC), until=datetime(2025, 1, 1, tzinfo=UTC), **axis)}

    assert found() & mine == mine  # by business time, the default
    assert found(time="recorded") & mine == set()  # they were all recorded today

    def through_temporal(**axis):  # the seed's getEventsByType("PaymentProcessed", 2024-01-01, 2024-12-31)
        answer = plain_temporal("EventStoreWorkflow", {"operation": "get_events_by_type", "get_events_by_type": {
            "event_type": "PaymentProcessed", "since": "2024-01-01T00:00:00Z", "until": "2025-01-01T00:00:00Z", **axis}})
        return {event["stream_id"] for event in answer["page"]["events"]}

    assert through_temporal() & mine == mine and through_temporal(time="recorded") & mine == set()
    with pytest.raises(WorkflowFailureError) as failure:
        through_temporal(time="valuta")
    assert "time" in str(failure.value.cause)


def test_a_late_correction_changes_the_past_but_not_what_was_known_at_month_end(run_command, command_request, tenants):
    payment_id = new_id()
    assert run_command(command_request(payment_id=payment_id, organization_id="org-acme", amount="100.00",
                                       occurred_at="2024-01-10T09:00:00Z")).success
    month_end_close = timezone.now()  # the books of January are closed
    correction = run_command(command_request("REFUND", payment_id, organization_id="org-acme", amount="30.00",
                                             occurred_at="2024-01-25T15:00:00Z"))  # backdated, recorded after the close
    assert correction.success, correction.message
    january_end = datetime(2024, 1, 31, 23, 59, 59, tzinfo=UTC)

    known_then = payment_state_as_of(payment_id, at=january_end, known_at=month_end_close)
    known_now = payment_state_as_of(payment_id, at=january_end)
    before_correction = payment_state_as_of(payment_id, at=datetime(2024, 1, 20, tzinfo=UTC))

    assert (known_then.state["status"], known_then.state["refunded"], known_then.version) == ("PROCESSED", "0.00", 1)
    assert (known_now.state["status"], known_now.state["refunded"], known_now.version) == ("PARTIALLY_REFUNDED", "30.00", 2)
    assert known_now.occurred_at == datetime(2024, 1, 25, 15, tzinfo=UTC)
    assert before_correction.state["status"] == "PROCESSED"
    assert payment_state_as_of(payment_id, at=datetime(2024, 1, 9, tzinfo=UTC)) is None

    url = f"/api/payments/{payment_id}/state/"
    as_known = tenants.acme.get(url, {"at": "2024-01-31T23:59:59Z", "known_at": month_end_close.isoformat()})
    as_now = tenants.acme.get(url, {"at": "2024-01-31T23:59:59Z"})
    assert (as_known.status_code, as_known.json()["status"], as_known.json()["refunded"]) == (200, "PROCESSED", "0.00")
    assert (as_now.json()["status"], as_now.json()["refunded"], as_now.json()["occurred_at"]) == (
        "PARTIALLY_REFUNDED", "30.00", "2024-01-25T15:00:00Z")
    assert tenants.acme.get(url, {"version": 1}).json()["status"] == "PROCESSED"
    assert tenants.acme.get(url, {"version": 1, "known_at": "2024-01-01T00:00:00Z"}).status_code == 400
    assert tenants.acme.get(url, {"at": "2024-01-01T00:00:00Z"}).status_code == 404


def test_the_admin_payment_page_shows_both_times_and_answers_as_of_as_known_on(client, finance_user, run_command,
                                                                                command_request):
    payment_id = new_id()
    assert run_command(command_request(payment_id=payment_id, occurred_at="2024-01-10T09:00:00Z")).success
    close = timezone.now()
    assert run_command(command_request("REFUND", payment_id, amount="40.00", occurred_at="2024-01-20T09:00:00Z")).success
    client.force_login(finance_user)
    page = f"/admin/payments/paymentsummary/{payment_id}/change/"

    history = client.get(page)
    assert b"<th>Occurred</th><th>Recorded</th>" in history.content and b"2024-01-20 09:00:00 UTC" in history.content
    known_then = client.get(page, {"at": "2024-01-31 23:59:59", "known_at": close.strftime("%Y-%m-%d %H:%M:%S.%f")})
    known_now = client.get(page, {"at": "2024-01-31 23:59:59"})
    assert known_then.context["as_of"]["state"].state["refunded"] == "0.00"
    assert known_now.context["as_of"]["state"].state["refunded"] == "40.00"
    recorded = Event.objects.filter(stream_id=payment_id, version=2).values_list("recorded_at", flat=True).get()
    as_shown = recorded.strftime("%Y-%m-%d %H:%M:%S UTC")  # as the history shows it; the store keeps microseconds
    assert client.get(page, {"known_at": as_shown}).context["as_of"]["state"].version == 2
    assert "not a date and time" in client.get(page, {"at": "last week"}).context["as_of"]["error"]
