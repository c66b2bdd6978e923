"""Setting aside an event a projection cannot apply (eventstore/projections/set_aside.py), with the
management command and the admin action, shown by projection_status and the dashboard. The poison
event is inserted as a superuser through the append function itself, with the store's checks off,
since the store refuses such an event."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from eventstore.events import ANY, NewEvent, RecordedEvent
from eventstore.models import Event
from eventstore.projections import engine
from eventstore.projections.engine import Projection, apply_pending, registered
from eventstore.projections.models import ProjectionCheckpoint, ProjectionError, SetAsideEvent
from eventstore.projections.rebuild import rebuild
from eventstore.projections.set_aside import SetAsideRefused, set_aside
from eventstore.store import append_events
from payments.models import PaymentSummary
from tests.eventstore.helpers import payment_data

pytestmark = pytest.mark.django_db(transaction=True)

POISON = {"amount": "1"}  # the event: no organization, no currency


def create(payment_id: str, amount: str = "10.00") -> None:
    append_events(stream_id=payment_id, aggregate_type="Payment", expected_version=ANY, events=[
        NewEvent("PaymentProcessed", payment_data("PaymentProcessed", amount, payment_id))])


@pytest.fixture
def summary():
    return registered()["payment_summary"]


@pytest.fixture
def stopped(insert_unchecked, summary):
    """payment-a created, then a poison event on payment-poisoned (after its creation), then
    payment-b: the payment summary stops at the poison and payment-b never shows."""
    create("payment-a")
    create("payment-poisoned")
    position = insert_unchecked("payment-poisoned", "PaymentProcessed", POISON)
    create("payment-b")
    outcome = apply_pending(summary)
    assert outcome.failed_at == position
    assert not PaymentSummary.objects.filter(payment_id="payment-b").exists()
    return position


def operator(username="olive", *, allowed=True):
    """A staff member who sees every organization's projection errors and set-aside events and, if
    `allowed`, sets events aside."""
    user = get_user_model().objects.create_user(username=username, password="pw", is_staff=True)
    codenames = ["view_projectionerror", "view_setasideevent"] + (["set_aside_event"] if allowed else [])
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="eventstore", codename__in=codenames),
                              Permission.objects.get(content_type__app_label="payments", codename="view_all_organizations"))
    return get_user_model().objects.get(pk=user.pk)  # fresh: permissions are cached per instance


def test_a_set_aside_event_is_passed_over_and_the_projection_goes_on(stopped, summary, api_client_for):
    record, outcome = set_aside(projection="payment_summary", position=stopped, user=operator(),
                                reason="Written by hand in 2025; the payment is being corrected in INC-42.")

    assert outcome.failed_at is None and outcome.applied == 1  # payment-b
    assert (record.set_aside_by, record.stream_id, record.version, record.event_type) == (
        "olive", "payment-poisoned", 2, "PaymentProcessed")
    assert record.reason.startswith("Written by hand") and "KeyError" in record.error and record.set_aside_at
    assert PaymentSummary.objects.get(payment_id="payment-b").version == 1
    poisoned = PaymentSummary.objects.get(payment_id="payment-poisoned")
    assert poisoned.incomplete and poisoned.version == 1
    assert not PaymentSummary.objects.filter(incomplete=True).exclude(payment_id="payment-poisoned").exists()
    assert not ProjectionError.objects.filter(resolved_at__isnull=True).exists()
    assert ProjectionCheckpoint.objects.get(name="payment_summary").failing_position is None
    assert Event.objects.filter(position=stopped).exists()  # the event itself stays, unchanged
    listed = api_client_for("ann", "org-1").get("/api/payments/").json()["results"]
    assert {row["payment_id"]: row["incomplete"] for row in listed} == {
        "payment-a": False, "payment-poisoned": True, "payment-b": False}


def test_later_events_of_the_stream_apply_on_top_and_the_row_stays_incomplete(stopped, summary):
    set_aside(projection="payment_summary", position=stopped, user=operator(), reason="hand-written")
    append_events(stream_id="payment-poisoned", aggregate_type="Payment", expected_version=2, events=[
        NewEvent("PaymentRefunded", payment_data("PaymentRefunded", "4.00", "payment-poisoned"))])

    apply_pending(summary)

    row = PaymentSummary.objects.get(payment_id="payment-poisoned")
    assert (row.version, str(row.refunded), row.status, row.incomplete) == (3, "4.000", "PARTIALLY_REFUNDED", True)


def test_a_row_first_made_after_a_set_aside_event_is_incomplete(insert_unchecked, summary):
    insert_unchecked("payment-headless", "PaymentProcessed", POISON)
    position = apply_pending(summary).failed_at
    set_aside(projection="payment_summary", position=position, user=operator(), reason="no organization")
    append_events(stream_id="payment-headless", aggregate_type="Payment", expected_version=1, events=[
        NewEvent("PaymentCancelled", payment_data("PaymentCancelled", "1.00", "payment-headless"))])

    apply_pending(summary)

    assert PaymentSummary.objects.get(payment_id="payment-headless").incomplete


def test_a_rebuild_passes_over_the_set_aside_event_too(stopped, summary, summary_rows):
    set_aside(projection="payment_summary", position=stopped, user=operator(), reason="hand-written")
    before = summary_rows()

    assert rebuild(summary, batch_size=2, restart=True).swapped
    assert summary_rows() == before


class UnableToApplyYet(Projection):
    """Another projection, which cannot apply the event at `position` until `fixed`; keeps the positions
    it applied and those it passed over."""

    name = "unable_to_apply_yet"

    def __init__(self, position: int):
        self.position, self.fixed, self.applied, self.passed_over = position, False, [], []

    def apply(self, events: list[RecordedEvent]) -> None:
        if not self.fixed and any(event.position == self.position for event in events):
            raise ValueError("cannot read this event yet")
        self.applied.extend(event.position for event in events)

    def set_aside(self, event: RecordedEvent) -> None:
        self.passed_over.append(event.position)


def test_an_event_set_aside_for_one_projection_stops_another_until_it_applies_it(stopped, monkeypatch):
    other = UnableToApplyYet(stopped)
    monkeypatch.setattr(engine, "RETRY_FAILED_AFTER", timedelta(0))  # each run retries the event
    assert apply_pending(other).failed_at == stopped
    set_aside(projection="payment_summary", position=stopped, user=operator(), reason="hand-written")

    assert apply_pending(other).failed_at == stopped
    assert ProjectionError.objects.get(projection=other.name).resolved_at is None

    other.fixed = True
    resumed = apply_pending(other)

    assert resumed.failed_at is None and other.passed_over == []
    assert other.applied == sorted(Event.objects.values_list("position", flat=True))
    assert ProjectionError.objects.get(projection=other.name).resolved_at is not None


def test_only_the_event_a_projection_is_stopped_at_can_be_set_aside(stopped):
    user = operator()
    with pytest.raises(SetAsideRefused, match="not stopped at position 1"):
        set_aside(projection="payment_summary", position=1, user=user, reason="why not")
    with pytest.raises(SetAsideRefused, match="There is no projection 'payment_sumary'"):
        set_aside(projection="payment_sumary", position=stopped, user=user, reason="typo")
    with pytest.raises(SetAsideRefused, match="Say why"):
        set_aside(projection="payment_summary", position=stopped, user=user, reason="  ")
    with pytest.raises(PermissionDenied):
        set_aside(projection="payment_summary", position=stopped, user=operator("otto", allowed=False), reason="x")
    assert not SetAsideEvent.objects.exists()
    assert ProjectionCheckpoint.objects.get(name="payment_summary").failing_position == stopped


def test_the_management_command_records_who_and_why_and_projection_status_shows_it(stopped):
    operator()
    status = io.StringIO()
    call_command("projection_status", stdout=status)
    assert f"STOPPED at position {stopped}" in status.getvalue()

    with pytest.raises(CommandError, match="needs the permission eventstore.set_aside_event"):
        call_command("set_aside_event", "payment_summary", str(stopped), "--reason", "x",
                     "--by", operator("otto", allowed=False).username)
    with pytest.raises(CommandError, match="There is no user 'nobody'"):
        call_command("set_aside_event", "payment_summary", str(stopped), "--reason", "x", "--by", "nobody")
    output = io.StringIO()
    call_command("set_aside_event", "payment_summary", str(stopped), "--reason", "hand-written in 2025",
                 "--by", "olive", stdout=output)
    status = io.StringIO()
    call_command("projection_status", stdout=status)

    assert "Set aside payment-poisoned v2 PaymentProcessed" in output.getvalue()
    assert "it then applied 1 events." in output.getvalue()
    shown = status.getvalue()
    assert "STOPPED" not in shown and "ok, 1 set aside" in shown
    assert f"payment_summary: position {stopped}, payment-poisoned v2 PaymentProcessed, by olive at" in shown
    assert "hand-written in 2025 (error: KeyError: 'organization_id')" in shown


def test_the_admin_action_asks_why_and_needs_its_permission(stopped, client, finance_user):
    error = ProjectionError.objects.get(position=stopped)
    changelist = "/admin/eventstore/projectionerror/"
    selected = {"action": "set_aside_events", "_selected_action": [error.pk]}

    client.force_login(finance_user)  # may view errors, may not set events aside
    assert client.post(changelist, selected).status_code in (200, 302)
    assert not SetAsideEvent.objects.exists()

    client.force_login(operator())
    asked = client.post(changelist, selected)
    assert asked.status_code == 200 and b"Set aside" in asked.content and b"payment-poisoned" in asked.content
    done = client.post(changelist, {**selected, "apply": "Set aside", "reason": "duplicate written by hand"}, follow=True)

    assert done.status_code == 200 and b"the projection then applied 1 events" in done.content
    record = SetAsideEvent.objects.get()
    assert (record.set_aside_by, record.reason, record.position) == ("olive", "duplicate written by hand", stopped)
    assert client.get("/admin/eventstore/setasideevent/").status_code == 200


def test_the_dashboard_and_the_payment_page_show_what_was_set_aside(stopped, client, finance_user):
    set_aside(projection="payment_summary", position=stopped, user=operator(), reason="hand-written in 2025")
    client.force_login(finance_user)

    dashboard = client.get("/admin/analytics/dashboard/operations/", {"part": "panel"})  # the dashboard's panel
    payment = client.get("/admin/payments/paymentsummary/payment-poisoned/change/")
    listing = client.get("/admin/payments/paymentsummary/", {"incomplete__exact": "1"})

    assert dashboard.status_code == 200
    assert b"Events set aside" in dashboard.content and b"hand-written in 2025" in dashboard.content
    assert b"1 set aside" in dashboard.content
    assert payment.status_code == 200 and b"Incomplete" in payment.content
    assert b"not applied: KeyError" in payment.content
    assert [row.payment_id for row in listing.context["cl"].result_list] == ["payment-poisoned"]
