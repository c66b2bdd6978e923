"""Fixtures of the store's tests: counting what is stored, and whole payment lives to project."""

import pytest

from eventstore.models import Event
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
