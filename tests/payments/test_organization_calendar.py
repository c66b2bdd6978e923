"""The organization's calendar: an IANA time zone and an ISO 4217 reporting currency, edited in the
admin by those allowed, each change recorded as an event naming who made it; the payments list leads
with the business date in that zone and filters on it from local midnight."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from eventstore.models import Event
from payments.models import Organization, PaymentSummary
from tests.admin_users import finance_user

pytestmark = pytest.mark.django_db(transaction=True)
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def editor():
    """Fiona of org-acme, allowed to change organizations."""
    user = finance_user(organizations=["org-acme"])
    user.user_permissions.add(Permission.objects.get(codename="change_organization"),
                              Permission.objects.get(codename="view_organization"))
    return user


def form(**changes) -> dict:
    return {"name": "Acme", "time_zone": "Europe/Paris", "reporting_currency": "EUR", **changes}


def test_a_calendar_change_in_the_admin_is_recorded_with_its_actor_and_bad_values_are_form_errors(client, editor):
    client.force_login(editor)
    url = "/admin/payments/organization/org-acme/change/"
    assert Organization.objects.get(pk="org-acme").time_zone == "UTC"  # DEFAULT_ORGANIZATION_TIME_ZONE

    for bad, message in ((form(time_zone="Mars/Olympus"), "not an IANA time zone"),
                         (form(time_zone="../../etc/passwd"), "not an IANA time zone"),
                         (form(reporting_currency="EUX"), "not an ISO 4217 currency"),
                         (form(reporting_currency="XAU"), "not an ISO 4217 currency")):
        refused = client.post(url, bad)
        assert refused.status_code == 200 and message in refused.content.decode(), bad
    assert not Event.objects.filter(aggregate_type="Organization").exists()

    assert client.post(url, form()).status_code == 302
    assert client.post(url, form(name="Acme SA")).status_code == 302  # the calendar did not change: no event
    assert client.post(url, form(name="Acme SA", reporting_currency="CHF")).status_code == 302

    events = list(Event.objects.filter(stream_id="organization-org-acme").order_by("version"))
    assert [(e.event_type, e.data["time_zone"], e.data["reporting_currency"]) for e in events] == [
        ("OrganizationCalendarChanged", "Europe/Paris", "EUR"), ("OrganizationCalendarChanged", "Europe/Paris", "CHF")]
    assert events[0].data["previous"] == {"time_zone": "UTC", "reporting_currency": "EUR"}
    assert events[1].metadata["actor"].pop("session")  # a digest of the admin session, never its key
    assert events[1].metadata == {"organization_id": "org-acme", "actor": {
        "kind": "user", "id": str(editor.pk), "name": "fiona", "channel": "admin"}}
    assert Organization.objects.values_list("name", "time_zone", "reporting_currency").get(pk="org-acme") == (
        "Acme SA", "Europe/Paris", "CHF")

    Organization.objects.create(id="org-globex", name="Globex")
    assert client.get("/admin/payments/organization/org-globex/change/").status_code == 302  # not hers: "not found"
    assert "/organization/org-globex/change/" not in client.get("/admin/payments/organization/").content.decode()

    reader = finance_user("rita", organizations=["org-acme"])  # finance staff without the change permission
    client.force_login(reader)
    assert client.post(url, form(time_zone="Asia/Tokyo")).status_code == 403
    assert Organization.objects.get(pk="org-acme").time_zone == "Europe/Paris"


def test_the_payments_list_leads_with_the_business_date_in_the_organizations_zone(client):
    Organization.objects.create(id="org-acme", name="Acme", time_zone="Europe/Paris")
    user = finance_user(organizations=["org-acme"])
    midnight = timezone.now().astimezone(PARIS).replace(hour=0, minute=0, second=0, microsecond=0)
    recorded = timezone.now()
    for payment_id, occurred in (("payment-today", midnight + timedelta(minutes=1)),
                                 ("payment-yesterday", midnight - timedelta(minutes=1))):
        PaymentSummary.objects.create(payment_id=payment_id, organization_id="org-acme", user_id="u", amount=10,
                                      currency="EUR", status="PROCESSED", created_at=recorded, updated_at=recorded,
                                      occurred_at=occurred, version=1, last_position=1)
    client.force_login(user)

    page = client.get("/admin/payments/paymentsummary/").content.decode()
    assert "Occurred: the business date, in Europe/Paris" in page and ">Recorded<" in page.replace("recorded", "Recorded")
    assert page.index("payment-today") < page.index("payment-yesterday")  # newest business date first
    assert (midnight + timedelta(minutes=1)).strftime("%Y-%m-%d 00:01:00 %Z") in page
    today = client.get("/admin/payments/paymentsummary/", {"occurred": "today"}).content.decode()
    assert "payment-today" in today and "payment-yesterday" not in today

    detail = client.get("/admin/payments/paymentsummary/payment-today/change/").content.decode()
    assert "<th>Occurred</th>" in detail and "<th>Recorded</th>" in detail and "<th>Created</th>" not in detail
