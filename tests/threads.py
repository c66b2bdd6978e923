"""One way to run work in threads, for the tests and the benchmarks."""

import threading
from collections.abc import Callable

from django.conf import settings
from django.db import connection


def in_threads(count: int, work: Callable[[int], object]) -> None:
    """Run `work(index)` for each index below `count`, in `count` threads started together, and wait
    for all of them; re-raise the first error any of them met.

    Each thread gets its own database connection, closed when its work is done. A process that never
    set Django up (the HTTP load generator) opened none, and closes none.
    """
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def body(index: int) -> None:
        try:
            start.wait()
            work(index)
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            if settings.configured:
                connection.close()

    threads = [threading.Thread(target=body, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
