"""Eight writers committing at once, one of them holding its transaction open for seconds and one
rolling back: what a follower of the store must come through seeing every committed event once."""

import contextlib
import threading
import time
from collections.abc import Callable

from django.db import connection, transaction

from eventstore.events import ANY, NewEvent
from eventstore.store import append_events
from tests.eventstore.helpers import payment_data

WRITERS = 8
HOLD_SECONDS = 3.0


class Abandon(Exception):
    pass


def append(stream_id: str, count: int, organization_id: str) -> None:
    events = [NewEvent("PaymentProcessed" if index == 0 else "PaymentRefunded",
                       payment_data("PaymentProcessed" if index == 0 else "PaymentRefunded", "1.00", stream_id),
                       {"organization_id": organization_id, "correlation_id": stream_id})
              for index in range(count)]
    append_events(stream_id=stream_id, aggregate_type="Payment", events=events, expected_version=ANY)


def run_writers(*, organization_id: str = "org-1", rounds: int = 15) -> None:
    """Run the eight writers to the end. Writer 0 takes its position first and commits last."""
    holding = threading.Event()

    def writer(index: int) -> None:
        try:
            if index == 0:
                with transaction.atomic():
                    append("payment-slow", 1, organization_id)
                    holding.set()
                    time.sleep(HOLD_SECONDS)
                return
            holding.wait(10)
            if index == 1:
                try:
                    with transaction.atomic():
                        append("payment-abandoned", 3, organization_id)
                        raise Abandon
                except Abandon:
                    return
            for round_ in range(rounds):
                append(f"payment-{index}-{round_}", 1 + round_ % 2, organization_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@contextlib.contextmanager
def transaction_held_open(write: Callable[[], object]):
    """Run `write()` in a transaction on another thread, and keep that transaction open until the
    block ends; then it commits."""
    holding, release = threading.Event(), threading.Event()

    def held_open():
        try:
            with transaction.atomic():
                write()
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=held_open)
    thread.start()
    assert holding.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join()
