import threading

from django.db import connection

from eventstore.events import NewEvent
from eventstore.models import Event


def payment_events(count: int, *, event_type: str = "PaymentProcessed", correlation_id: str = "corr-1") -> list[NewEvent]:
    return [
        NewEvent(event_type, {"amount": f"{index + 1}.00", "currency": "EUR"}, {"correlation_id": correlation_id})
        for index in range(count)
    ]


def stored_count() -> int:
    return Event.objects.count()


def run_threads(target, count: int, *args) -> list[BaseException]:
    """Run `target(index, *args)` in `count` threads, each with its own connection; return their errors."""
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def body(index):
        try:
            start.wait()
            target(index, *args)
        except BaseException as error:  # collected and asserted by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
