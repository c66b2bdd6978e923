"""The catch-up loop follows each projection, and the ledger, on a thread of its own: a projection
that is slow or stopped holds back no other."""

import threading
import time

import pytest

from eventstore import registry
from eventstore.events import RecordedEvent
from eventstore.ledger.service import ledger_size
from eventstore.models import Event
from eventstore.projections import catch_up
from eventstore.projections.engine import Projection
from eventstore.projections.lag import lag

pytestmark = pytest.mark.django_db(transaction=True)


class Stuck(Projection):
    """Takes its first batch and holds it until released: a projection with a long backlog."""

    name = "stuck"

    def __init__(self):
        self.entered, self.release = threading.Event(), threading.Event()

    def apply(self, events: list[RecordedEvent]) -> None:
        self.entered.set()
        self.release.wait(timeout=60)


@pytest.fixture
def stuck(monkeypatch):
    projection = Stuck()
    declared = registry.projections()
    monkeypatch.setattr(registry, "projections", lambda: {**declared, projection.name: projection})
    yield projection
    projection.release.set()


def test_a_stuck_projection_holds_back_neither_the_others_nor_the_ledger(stuck, random_commands):
    random_commands(120, payments=20)
    seen = []

    def keep_going():
        behind = {item.name: item.events_behind for item in lag()}
        seen.append(behind)
        if stuck.entered.is_set() and behind["payment_summary"] == 0 and ledger_size() == Event.objects.count():
            stuck.release.set()  # only now: the others got there while it held its batch
        caught_up = stuck.release.is_set() and not any(behind.values())
        return not caught_up and time.monotonic() < deadline

    deadline = time.monotonic() + 60
    progress = catch_up.follow_all(seconds=60, idle_pause=0.05, keep_going=keep_going, on_progress=lambda _: None,
                                   tick=0.1)

    assert any(state.get("stuck", 0) > 0 and state["payment_summary"] == 0 for state in seen)
    assert progress.applied["payment_summary"] == progress.applied["stuck"] == Event.objects.count()
    assert not progress.failing


def test_an_error_in_one_follower_stops_it_alone_and_is_raised_at_the_end(monkeypatch, random_commands):
    random_commands(30, payments=5)

    def broken(**_):
        raise RuntimeError("ledger unavailable")
    monkeypatch.setattr(catch_up.ledger, "extend_ledger", broken)

    with pytest.raises(RuntimeError, match="ledger unavailable"):
        catch_up.follow_all(seconds=1, idle_pause=0.05, keep_going=lambda: True, on_progress=lambda _: None, tick=0.1)
    assert not any(item.events_behind for item in lag())  # the projections went on
