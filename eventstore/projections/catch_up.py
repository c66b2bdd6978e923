"""The catch-up loop's work: every projection, and the ledger, followed on a thread of its own.

Each follower applies what is pending, then waits for the next commit (`wakeups`) or its idle pause.
Followers do not wait for one another: a projection that is slow, stopped at an event that fails, or
busy with a long backlog holds back no other projection, and the ledger keeps giving indexes
meanwhile. Each thread has its own database connection (`WORKER_DATABASE_POOL_SIZE` counts them).
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connections

from eventstore import wakeups
from eventstore.ledger import service as ledger
from eventstore.projections import engine as projections

LEDGER = "ledger"  # the follower that extends the ledger, beside one per projection


@dataclass
class Progress:
    """What the followers did so far; read by the thread that heartbeats."""

    applied: dict[str, int] = field(default_factory=dict)
    failing: set[str] = field(default_factory=set)
    errors: dict[str, Exception] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.applied.values())


def follow_all(*, seconds: float, idle_pause: float, keep_going: Callable[[], bool],
               on_progress: Callable[[Progress], None], tick: float = 1.0) -> Progress:
    """Follow the store with every projection and the ledger for about `seconds`, calling
    `on_progress` every `tick` from the calling thread (a heartbeat); stops early once `keep_going`
    says so. A follower that raises stops alone; its error is re-raised here at the end."""
    progress, stop = Progress(), threading.Event()
    deadline = time.monotonic() + seconds
    steps = {name: _projection_step(projection, progress) for name, projection in projections.registered().items()}
    steps[LEDGER] = _ledger_step
    threads = [threading.Thread(target=_follow, args=(name, step, deadline, idle_pause, stop, progress),
                                name=f"catch-up-{name}", daemon=True) for name, step in steps.items()]
    for thread in threads:
        thread.start()
    while alive := [thread for thread in threads if thread.is_alive()]:
        on_progress(progress)
        if not keep_going():
            stop.set()
        alive[0].join(timeout=tick)
    if progress.errors:
        raise next(iter(progress.errors.values()))
    return progress


def _projection_step(projection: projections.Projection, progress: Progress) -> Callable[[], int]:
    def step() -> int:
        outcome = projections.apply_pending(projection)
        if outcome.failed_at is not None:
            progress.failing.add(projection.name)
        else:
            progress.failing.discard(projection.name)
        return outcome.applied
    return step


def _ledger_step() -> int:
    """Events get their ledger index soon after they become visible, not at the next head. The
    ledger's size is not a count of events applied, so it reports none."""
    ledger.extend_ledger()
    return 0


def _follow(name: str, step: Callable[[], int], deadline: float, idle_pause: float, stop: threading.Event,
            progress: Progress) -> None:
    try:
        while time.monotonic() < deadline and not stop.is_set():
            seen = wakeups.notifications_seen()
            applied = step()
            progress.applied[name] = progress.applied.get(name, 0) + applied
            if not applied:
                wakeups.wait_for_events(seen, min(idle_pause, max(deadline - time.monotonic(), 0)))
    except Exception as error:  # noqa: BLE001 - handed to the calling thread, which raises it
        progress.errors[name] = error
    finally:
        connections.close_all()  # this thread's own connection

