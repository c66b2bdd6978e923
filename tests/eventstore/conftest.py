"""Fixtures of the store's tests: counting what is stored, and the payment read model the projection
tests build, rebuild and compare."""

import pytest

from eventstore.models import Event
from payments import consistency
from payments.models import PaymentSummary
from tests.payments import history


@pytest.fixture
def stored_count():
    """How many events the store holds now."""

    def stored_count() -> int:
        return Event.objects.count()

    return stored_count


@pytest.fixture
def random_lives():
    """Decides each payment's whole life in memory and appends it as one batch:
    `random_lives(payments, seed=5, prefix="payment-life")` returns the events written."""
    return history.random_lives


@pytest.fixture
def summary_rows():
    """Every row of the payment summaries now, in payment order."""

    def summary_rows() -> list[tuple]:
        return list(PaymentSummary.objects.order_by("payment_id").values_list())

    return summary_rows


@pytest.fixture
def assert_summaries_match_a_fold_of_the_events():
    """Asserts that there are payment summaries and that each equals a fold of its payment's events."""

    def assert_summaries_match_a_fold_of_the_events() -> None:
        check = consistency.check_summaries()
        assert check.figures["payments"] > 0
        assert check.ok, check.problems

    return assert_summaries_match_a_fold_of_the_events
