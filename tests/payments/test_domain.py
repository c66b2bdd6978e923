"""Every business rule of the payment domain, accepted and rejected. Pure Python: no database."""

import uuid
from decimal import Decimal

import pytest

from payments.domain import (
    CommandRejected,
    CommandType,
    EventType,
    PaymentAggregate,
    PaymentCommand,
    PaymentIdTaken,
    PaymentNotFound,
    PaymentStatus,
    canonical_payment_id,
    parse_amount,
    time_ordered_payment_id,
)

ORG, USER = "org-456", "user-789"


def command(kind, amount=None, currency=None, **overrides):
    fields = dict(type=CommandType(kind), payment_id="payment-123", organization_id=ORG, user_id=USER,
                  amount=amount, currency=currency, description="Test payment")
    fields.update(overrides)
    return PaymentCommand(**fields)


def payment(*commands) -> PaymentAggregate:
    aggregate = PaymentAggregate("payment-123")
    for each in commands:
        aggregate.execute(each)
    history = [(event.event_type, event.data) for event in aggregate.uncommitted_events]
    return PaymentAggregate.from_events("payment-123", history)


def rejected(aggregate, each) -> str:
    with pytest.raises(CommandRejected) as raised:
        aggregate.decide(each)
    return str(raised.value)


def test_create_records_a_processed_payment():
    aggregate = PaymentAggregate("payment-123")
    [event] = aggregate.execute(command("CREATE", "100.00", "EUR"))
    assert event.event_type == EventType.PAYMENT_PROCESSED
    assert event.data == {"payment_id": "payment-123", "organization_id": ORG, "user_id": USER,
                          "amount": "100.00", "currency": "EUR", "description": "Test payment"}
    assert aggregate.uncommitted_events == [event]
    rebuilt = payment(command("CREATE", "100.00", "EUR"))
    assert (rebuilt.version, rebuilt.status, rebuilt.amount, rebuilt.currency) == (1, PaymentStatus.PROCESSED, Decimal("100.00"), "EUR")


@pytest.mark.parametrize("amount, currency, stored", [
    ("100", "EUR", "100.00"), ("0.01", "eur", "0.01"), ("100", "JPY", "100"), ("1.234", "KWD", "1.234"),
    ("10.000", "EUR", "10.00"), ("999999999999", "USD", "999999999999.00"), ("1E+2", "EUR", "100.00"),
])
def test_accepted_amounts(amount, currency, stored):
    [event] = PaymentAggregate("payment-123").decide(command("CREATE", amount, currency))
    assert event.data["amount"] == stored
    assert event.data["currency"] == currency.upper()


@pytest.mark.parametrize("amount, currency, message", [
    ("0", "EUR", "greater than zero"),
    ("-5.00", "EUR", "greater than zero"),
    ("10.001", "EUR", "at most 2 decimals"),
    ("1.5", "JPY", "at most 0 decimals"),
    ("1.2345", "KWD", "at most 3 decimals"),
    ("abc", "EUR", "not a number"),
    ("NaN", "EUR", "not a number"),
    ("Infinity", "EUR", "not a number"),
    (None, "EUR", "amount is required"),
    ("1000000000000", "EUR", "over the limit"),
    ("10.00", "EUX", "not an ISO 4217 currency"),
    ("10.00", "XAU", "no minor units"),
    ("10.00", None, "currency is required"),
])
def test_rejected_amounts_and_currencies(amount, currency, message):
    assert message in rejected(PaymentAggregate("payment-123"), command("CREATE", amount, currency))


def test_create_only_once():
    message = rejected(payment(command("CREATE", "10.00", "EUR")), command("CREATE", "10.00", "EUR"))
    assert message == ("The payment id payment-123 is already taken; choose another, or leave payment_id out and "
                       "a new id is generated.")


def test_refunds_up_to_the_amount_in_the_payment_currency():
    aggregate = payment(command("CREATE", "10.00", "EUR"), command("REFUND", "4.00", "EUR"))
    assert (aggregate.status, aggregate.refunded, aggregate.refundable) == (
        PaymentStatus.PARTIALLY_REFUNDED, Decimal("4.00"), Decimal("6.00"))
    message = rejected(aggregate, command("REFUND", "6.01", "EUR"))
    assert message == ("A refund of 6.01 EUR exceeds what is left to refund on payment payment-123: "
                       "6.00 EUR of 10.00 EUR.")
    [event] = aggregate.execute(command("REFUND", "6", None))
    assert event.data["amount"] == "6.00" and event.data["refunded_total"] == "10.00"
    assert aggregate.status == PaymentStatus.REFUNDED
    assert "exceeds" in rejected(aggregate, command("REFUND", "0.01", "EUR"))


def test_refund_in_another_currency_is_rejected():
    message = rejected(payment(command("CREATE", "10.00", "EUR")), command("REFUND", "1.00", "USD"))
    assert message == "The refund is in USD but payment payment-123 was made in EUR."


def test_refund_of_an_unknown_payment_is_rejected():
    assert "does not exist" in rejected(PaymentAggregate("payment-123"), command("REFUND", "1.00", "EUR"))


def test_refund_amount_rules_apply():
    aggregate = payment(command("CREATE", "10.00", "EUR"))
    assert "greater than zero" in rejected(aggregate, command("REFUND", "-1", "EUR"))
    assert "at most 2 decimals" in rejected(aggregate, command("REFUND", "0.001", "EUR"))


def test_cancel_before_any_refund():
    aggregate = payment(command("CREATE", "10.00", "EUR"))
    [event] = aggregate.execute(command("CANCEL"))
    assert event.event_type == EventType.PAYMENT_CANCELLED
    assert aggregate.status == PaymentStatus.CANCELLED


def test_cancel_after_a_refund_is_rejected():
    aggregate = payment(command("CREATE", "10.00", "EUR"), command("REFUND", "1.00", "EUR"))
    assert "already has refunds (1.00 EUR)" in rejected(aggregate, command("CANCEL"))


def test_nothing_after_cancel():
    aggregate = payment(command("CREATE", "10.00", "EUR"), command("CANCEL"))
    for each in (command("REFUND", "1.00", "EUR"), command("CANCEL")):
        assert "was cancelled" in rejected(aggregate, each)
    assert "already taken" in rejected(aggregate, command("CREATE", "1.00", "EUR"))


def test_cancel_of_an_unknown_payment_is_rejected():
    assert "does not exist" in rejected(PaymentAggregate("payment-123"), command("CANCEL"))


def test_another_organizations_payment_is_refused_as_if_it_did_not_exist():
    aggregate = payment(command("CREATE", "10.00", "EUR"))
    for each in (command("REFUND", "1.00", "EUR", organization_id="org-x"), command("CANCEL", organization_id="org-x")):
        with pytest.raises(PaymentNotFound) as refused:
            aggregate.decide(each)
        with pytest.raises(PaymentNotFound) as missing:
            PaymentAggregate("payment-123").decide(each)
        assert str(refused.value) == str(missing.value) == "Payment payment-123 does not exist."


def test_a_taken_id_is_refused_whoever_holds_it():
    aggregate = payment(command("CREATE", "10.00", "EUR"))
    for organization in ("org-1", "org-x"):
        with pytest.raises(PaymentIdTaken, match="payment-123 is already taken") as refused:
            aggregate.decide(command("CREATE", "5.00", "USD", organization_id=organization))
        assert "org" not in str(refused.value) and "PROCESSED" not in str(refused.value)


def test_generated_payment_ids_are_version_7_uuids_in_time_order():
    first = time_ordered_payment_id(1_700_000_000_000, 2**74 - 1)
    later = time_ordered_payment_id(1_700_000_000_001, 0)
    value = uuid.UUID(first.removeprefix("payment-"))
    assert first.startswith("payment-") and canonical_payment_id(first) == first
    assert (value.version, value.variant) == (7, uuid.RFC_4122)
    assert value.int >> 80 == 1_700_000_000_000
    assert first < later
    assert time_ordered_payment_id(1_700_000_000_000, 5) != time_ordered_payment_id(1_700_000_000_000, 6)


@pytest.mark.parametrize("field, value", [
    ("organization_id", ""), ("user_id", "with space"), ("user_id", "x" * 101), ("description", "d" * 501),
])
def test_malformed_ids_and_descriptions_are_rejected(field, value):
    assert rejected(PaymentAggregate("payment-123"), command("CREATE", "1.00", "EUR", **{field: value}))


def test_payment_ids_name_their_stream():
    assert canonical_payment_id("123") == canonical_payment_id("payment-123") == "payment-123"
    with pytest.raises(CommandRejected):
        canonical_payment_id("bad id")


def test_the_longest_payment_id_is_its_own_canonical_id():
    longest = canonical_payment_id("x" * 100)
    assert longest == "payment-" + "x" * 100
    assert canonical_payment_id(longest) == longest  # loading the payment again must not refuse it
    with pytest.raises(CommandRejected):
        canonical_payment_id("x" * 101)
    with pytest.raises(CommandRejected):
        canonical_payment_id("payment-" + "x" * 101)


def test_money_is_decimal_end_to_end():
    assert parse_amount("0.10", "EUR") + parse_amount("0.20", "EUR") == Decimal("0.30")
    aggregate = payment(command("CREATE", "0.30", "EUR"), command("REFUND", "0.10", "EUR"), command("REFUND", "0.20", "EUR"))
    assert aggregate.refunded == aggregate.amount and aggregate.status == PaymentStatus.REFUNDED
