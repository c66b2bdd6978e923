"""The payments API through DRF's test client, against the real worker, Temporal and PostgreSQL."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from eventstore.models import Event
from payments.models import PaymentSummary
from tests.temporal_harness import names_the_missing_search_attributes

pytestmark = pytest.mark.django_db(transaction=True)

COMMANDS = "/api/payments/commands/"


@pytest.fixture
def clients(temporal, tenants):
    """The tenants' clients, with the worker running for their commands."""
    return tenants


def create(client, payment_id=None, key=None, **overrides):
    body = {"type": "CREATE", "payment_id": payment_id or f"payment-{uuid.uuid4().hex[:10]}",
            "organization_id": "org-acme", "amount": "100.00", "currency": "EUR", "description": "Invoice 7"}
    body.update(overrides)
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(COMMANDS, body, format="json", **headers)


def test_create_then_read_it_back_everywhere(clients):
    response = create(clients.acme, "payment-api-1", correlation_id="order-api-1")
    assert response.status_code == 201, response.json()
    result = response.json()
    assert result["success"] and result["version"] == 1 and result["status"] == "PROCESSED"
    assert not result["replayed"] and len(result["event_ids"]) == 1

    detail = clients.acme.get("/api/payments/payment-api-1/").json()
    assert (detail["amount"], detail["currency"], detail["status"], detail["user_id"]) == ("100.00", "EUR", "PROCESSED", "alice")
    history = clients.acme.get("/api/payments/payment-api-1/history/").json()["results"]
    assert [(e["event_type"], e["version"]) for e in history] == [("PaymentProcessed", 1)]
    assert set(history[0]) >= {"event_id", "event_type", "version", "timestamp", "data", "metadata"}
    listed = clients.acme.get("/api/payments/", {"status": "PROCESSED", "currency": "eur"}).json()
    assert [p["payment_id"] for p in listed["results"]] == ["payment-api-1"]
    timeline = clients.acme.get("/api/timelines/order-api-1/").json()
    assert [e["event_id"] for e in timeline["results"]] == result["event_ids"] and timeline["next"] is None


def test_idempotency_key_replays_and_refuses_another_body(clients):
    key = f"key-{uuid.uuid4()}"
    first = create(clients.acme, "payment-api-2", key=key)
    again = create(clients.acme, "payment-api-2", key=key)
    other = create(clients.acme, "payment-api-2", key=key, amount="99.00")

    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 409)
    assert again.json()["replayed"] and again.json()["event_ids"] == first.json()["event_ids"]
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert Event.objects.filter(stream_id="payment-api-2").count() == 1


def test_business_rejection_is_422_with_the_domain_message(clients):
    create(clients.acme, "payment-api-3", amount="10.00")
    response = clients.acme.post(COMMANDS, {"type": "REFUND", "payment_id": "payment-api-3", "organization_id": "org-acme",
                                            "amount": "10.01", "currency": "EUR"}, format="json")
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (422, "command_rejected") and "exceeds what is left" in error["message"]
    assert set(response.json()) == {"error"}
    assert Event.objects.filter(stream_id="payment-api-3").count() == 1


BAD_BODIES = [
    ("negative amount", {"amount": "-5.00"}, "amount"),
    ("zero amount", {"amount": "0"}, "amount"),
    ("over-precise amount", {"amount": "1.001"}, "amount"),
    ("over-precise yen", {"amount": "1.5", "currency": "JPY"}, "amount"),
    ("not a number", {"amount": "ten"}, "amount"),
    ("huge number", {"amount": 10**30}, "amount"),
    ("unknown currency", {"currency": "XYZ"}, "currency"),
    ("unknown command", {"type": "PAYOUT"}, "type"),
    ("over-long id", {"payment_id": "p" * 101}, "payment_id"),
    ("bad id characters", {"payment_id": "a b"}, "payment_id"),
    ("wrong type", {"organization_id": ["org-acme"]}, "organization_id"),
    ("missing amount", {"amount": None}, "amount"),
    ("description too long", {"description": "d" * 501}, "description"),
]


@pytest.mark.parametrize("label, override, field", BAD_BODIES, ids=[case[0] for case in BAD_BODIES])
def test_bad_input_is_400_naming_the_field_and_writes_nothing(clients, label, override, field):
    before = Event.objects.count()
    response = create(clients.acme, **override)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert Event.objects.count() == before


def test_json_numbers_are_exact_decimals(clients):
    body = '{"type": "CREATE", "payment_id": "payment-num", "organization_id": "org-acme", "amount": 10.10, "currency": "EUR"}'
    response = clients.acme.post(COMMANDS, body, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert Event.objects.get(stream_id="payment-num").data["amount"] == "10.10"
    infinite = body.replace("10.10", "1e400").replace("payment-num", "payment-inf")
    assert clients.acme.post(COMMANDS, infinite, content_type="application/json").status_code == 400
    nan = body.replace("10.10", "NaN").replace("payment-num", "payment-nan")
    assert clients.acme.post(COMMANDS, nan, content_type="application/json").status_code == 400


def test_malformed_json_and_huge_bodies(clients):
    malformed = clients.acme.post(COMMANDS, "{not json", content_type="application/json")
    huge = clients.acme.post(COMMANDS, {"type": "CREATE", "description": "x" * 70_000}, format="json")
    not_an_object = clients.acme.post(COMMANDS, [1, 2], format="json")
    assert malformed.status_code == 400 and "Malformed JSON" in malformed.json()["error"]["message"]
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "payload_too_large"
    assert not_an_object.status_code == 400


def test_other_organizations_are_invisible_and_not_commandable(clients):
    create(clients.acme, "payment-acme")
    forbidden = create(clients.globex, "payment-globex-try", organization_id="org-acme")
    assert forbidden.status_code == 403
    for path in ("/api/payments/payment-acme/", "/api/payments/payment-acme/history/",
                 "/api/payments/payment-acme/state/"):
        assert clients.globex.get(path).status_code == 404
        assert clients.acme.get(path).status_code == 200
        assert clients.operator.get(path).status_code == 200
    assert clients.globex.get("/api/payments/").json()["results"] == []
    refund = clients.globex.post(COMMANDS, {"type": "REFUND", "payment_id": "payment-acme", "organization_id": "org-globex",
                                            "amount": "1.00", "currency": "EUR"}, format="json")
    assert refund.status_code == 404 and refund.json()["error"]["code"] == "payment_not_found"


@pytest.mark.parametrize("body", [
    {"type": "REFUND", "amount": "1.00", "currency": "EUR"},
    {"type": "REFUND", "amount": "1000.00"},
    {"type": "CANCEL"},
], ids=["refund", "refund over the amount", "cancel"])
def test_another_organizations_payment_is_answered_exactly_as_a_missing_one(clients, body):
    payment_id = f"payment-{uuid.uuid4().hex[:10]}"
    command = {**body, "payment_id": payment_id, "organization_id": "org-globex"}
    missing = clients.globex.post(COMMANDS, command, format="json")
    assert create(clients.acme, payment_id, amount="100.00").status_code == 201
    others = clients.globex.post(COMMANDS, command, format="json")

    assert (others.status_code, others.json()) == (missing.status_code, missing.json())
    assert others.json() == {"error": {"status": 404, "code": "payment_not_found",
                                       "message": f"Payment {payment_id} does not exist."}}
    assert Event.objects.filter(stream_id=payment_id).count() == 1


def test_create_of_a_taken_id_is_409_saying_neither_whose_nor_what(clients):
    payment_id = f"payment-{uuid.uuid4().hex[:10]}"
    assert create(clients.acme, payment_id, amount="100.00").status_code == 201

    by_another = create(clients.globex, payment_id, organization_id="org-globex", amount="5.00")
    by_the_owner = create(clients.acme, payment_id, amount="5.00")

    assert by_another.status_code == by_the_owner.status_code == 409
    assert by_another.json() == by_the_owner.json()
    error = by_another.json()["error"]
    assert error["code"] == "payment_id_taken" and payment_id in error["message"]
    for disclosed in ("acme", "org-", "PROCESSED", "100.00", "EUR", "version", "organization"):
        assert disclosed not in by_another.content.decode()
    assert Event.objects.filter(stream_id=payment_id).count() == 1


def test_create_without_a_payment_id_gets_a_time_ordered_one(clients):
    key = f"key-{uuid.uuid4()}"
    body = {"type": "CREATE", "organization_id": "org-acme", "amount": "125.00", "currency": "EUR"}
    first = clients.acme.post(COMMANDS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = clients.acme.post(COMMANDS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    second = clients.acme.post(COMMANDS, body, format="json")

    assert (first.status_code, again.status_code, second.status_code) == (201, 200, 201)
    generated = first.json()["payment_id"]
    assert re.fullmatch(r"payment-[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", generated)
    assert again.json()["payment_id"] == generated and again.json()["replayed"]
    assert uuid.UUID(second.json()["payment_id"][8:]).int >> 80 >= uuid.UUID(generated[8:]).int >> 80
    assert clients.acme.get(f"/api/payments/{generated}/").json()["amount"] == "125.00"
    refund = clients.acme.post(COMMANDS, {"type": "REFUND", "organization_id": "org-acme", "amount": "1.00"},
                               format="json")
    assert refund.status_code == 400 and "payment_id" in refund.json()["error"]["fields"]


def test_anonymous_requests_are_401(clients):
    for path in ("/api/payments/", "/api/events/", "/api/analytics/statistics/", "/api/metrics/workflows/"):
        assert clients.anonymous.get(path).status_code == 401
    assert clients.anonymous.post(COMMANDS, {}, format="json").status_code == 401


def test_time_travel_by_version_and_time(clients):
    create(clients.acme, "payment-tt", amount="10.00")
    clients.acme.post(COMMANDS, {"type": "REFUND", "payment_id": "payment-tt", "organization_id": "org-acme",
                                 "amount": "4.00", "currency": "EUR"}, format="json")
    now = clients.acme.get("/api/payments/payment-tt/state/").json()
    first = clients.acme.get("/api/payments/payment-tt/state/", {"version": 1}).json()
    at_first = clients.acme.get("/api/payments/payment-tt/state/", {"at": first["as_of"]}).json()
    assert (now["version"], now["refunded"], now["status"]) == (2, "4.00", "PARTIALLY_REFUNDED")
    assert (first["version"], first["refunded"], first["status"]) == (1, "0.00", "PROCESSED")
    assert at_first["version"] == 1
    assert clients.acme.get("/api/payments/payment-tt/state/", {"version": "x"}).status_code == 400
    assert clients.acme.get("/api/payments/payment-tt/state/", {"at": "2000-01-01T00:00:00Z"}).status_code == 404
    assert clients.acme.get("/api/payments/payment-tt/state/", {"version": 1, "at": first["as_of"]}).status_code == 400


def test_time_travel_outside_the_payments_life_says_why(clients):
    create(clients.acme, "payment-tt2", amount="10.00")
    created = clients.acme.get("/api/payments/payment-tt2/").json()["created_at"]

    before = clients.acme.get("/api/payments/payment-tt2/state/", {"at": "2000-01-01T00:00:00Z"})
    beyond = clients.acme.get("/api/payments/payment-tt2/state/", {"version": 99})

    assert before.status_code == beyond.status_code == 404
    assert before.json()["error"]["message"] == (
        f"Payment payment-tt2 did not exist yet at 2000-01-01T00:00:00+00:00: it was created at "
        f"{datetime.fromisoformat(created).isoformat()}.")
    assert beyond.json()["error"]["message"] == "Payment payment-tt2 has no version 99; its latest version is 1."


def summaries(count: int, organization="org-acme"):
    """Payment summaries straight into the read model, created a second apart, newest first."""
    start = datetime(2026, 3, 1, tzinfo=UTC)
    rows = [PaymentSummary(payment_id=f"payment-page-{index:02d}", organization_id=organization, user_id="alice",
                           amount=Decimal("10.00"), currency="EUR", status="PROCESSED",
                           created_at=start + timedelta(seconds=index // 2), updated_at=start, version=1,
                           last_position=index + 1)
            for index in range(count)]
    PaymentSummary.objects.bulk_create(rows)
    return sorted(rows, key=lambda row: (-row.created_at.timestamp(), row.payment_id))


@pytest.mark.parametrize("path", ["/api/payments/", "/api/events/"])
@pytest.mark.parametrize("params, field", [
    ({"limit": 0}, "limit"), ({"limit": 501}, "limit"), ({"limit": "ten"}, "limit"),
    ({"cursor": "garbage!"}, "cursor"), ({"cursor": "cD0x"}, "cursor"),
])
def test_lists_refuse_a_limit_out_of_range_or_a_cursor_they_did_not_give(clients, path, params, field):
    response = clients.acme.get(path, params)
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"]


def test_payments_page_with_limit_and_cursor_like_every_list(clients):
    expected = [row.payment_id for row in summaries(7)]
    seen, url, pages = [], "/api/payments/?limit=3", 0
    while url:
        page = clients.acme.get(url).json()
        assert set(page) == {"results", "next"}
        seen += [payment["payment_id"] for payment in page["results"]]
        url, pages = page["next"], pages + 1
    assert seen == expected and pages == 3
    assert clients.acme.get("/api/payments/", {"page_size": 2}).json()["next"] is None  # not this API's word
    past_the_end = clients.acme.get("/api/payments/", {"cursor": "t0." + b"payment-zzz".hex()})
    assert past_the_end.status_code == 200 and past_the_end.json() == {"results": [], "next": None}


def test_commands_are_throttled(clients, settings):
    from django.core.cache import cache
    from rest_framework.settings import api_settings
    from rest_framework.throttling import ScopedRateThrottle

    cache.clear()
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "commands": "2/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    original = ScopedRateThrottle.THROTTLE_RATES  # read at import: put back what was there, not the override
    ScopedRateThrottle.THROTTLE_RATES = rates
    try:
        statuses = [create(clients.acme).status_code for _ in range(3)]
    finally:
        ScopedRateThrottle.THROTTLE_RATES = original
    assert statuses == [201, 201, 429]


def test_the_same_key_with_either_form_of_a_payment_id_is_a_replay(clients):
    key = f"key-{uuid.uuid4()}"
    short = f"walk-{uuid.uuid4().hex[:8]}"
    first = create(clients.acme, short, key=key)
    again = create(clients.acme, f"payment-{short}", key=key)

    assert (first.status_code, again.status_code) == (201, 200), again.json()
    assert again.json()["replayed"] and again.json()["payment_id"] == first.json()["payment_id"] == f"payment-{short}"


def test_history_and_timeline_page_with_limit_and_cursor_like_every_list(clients):
    """The same vocabulary as every other list: `limit`, an opaque `cursor`, and a `next` link that
    walks the whole list once; a cursor the API did not give out is refused."""
    for step, (kind, amount) in enumerate([("CREATE", "100.00"), ("REFUND", "1.00"), ("REFUND", "2.00")]):
        answer = clients.acme.post("/api/payments/commands/", {
            "type": kind, "payment_id": "payment-paged-1", "organization_id": "org-acme", "amount": amount,
            "currency": "EUR", "correlation_id": "order-paged-1"}, format="json", HTTP_IDEMPOTENCY_KEY=f"paged-{step}")
        assert answer.status_code == 201, answer.json()
    for path, key in (("/api/payments/payment-paged-1/history/", "version"), ("/api/timelines/order-paged-1/", "version")):
        seen, url = [], f"{path}?limit=2"
        while url:
            page = clients.acme.get(url).json()
            assert len(page["results"]) <= 2
            seen += [event[key] for event in page["results"]]
            url = page["next"]
        assert seen == [1, 2, 3], path
        assert clients.acme.get(path, {"limit": 0}).status_code == 400
        assert clients.acme.get(path, {"cursor": "not-ours"}).status_code == 400


def test_reading_payments_commands_is_the_payment_of_that_id_not_a_405(clients):
    """`payments/{id}/` with the id "commands" lands on the commands route: read, it is that payment."""
    answer = clients.acme.get("/api/payments/commands/")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"


def test_a_namespace_without_the_search_attributes_answers_503_with_the_one_line(temporal, tenants, settings):
    settings.TEMPORAL_NAMESPACE = namespace = temporal.new_namespace()

    response = create(tenants.acme)

    assert response.status_code == 503, response.content
    error = response.json()["error"]
    assert error["code"] == "unavailable" and names_the_missing_search_attributes(error["message"], namespace), error
