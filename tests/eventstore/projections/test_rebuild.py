"""Rebuilding a projection beside its live read model (eventstore/projections/rebuild.py) while the
store goes on: what it swaps in holds every event, and the live checkpoint says so."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from eventstore.models import Event
from eventstore.projections.engine import apply_pending
from eventstore.projections.models import ProjectionCheckpoint
from eventstore.projections.rebuild import RebuildProgress, rebuild
from payments.projections import PaymentSummaryProjection
from tests.waiting import sessions_waiting_behind, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

summary = PaymentSummaryProjection()


def rebuild_in_its_own_session() -> RebuildProgress:
    try:
        return rebuild(summary, batch_size=100, restart=True)
    finally:
        connection.close()


def test_events_committed_while_a_rebuild_waits_for_the_live_runner_are_in_what_it_swaps_in(
    random_commands, plain_connection, assert_summaries_match_a_fold_of_the_events
):
    """A live runner holds the projection (its checkpoint, locked) when the rebuild has replayed the
    history and comes to swap; events committed then, past everything the rebuild read, must be in
    the rows it swaps in, once each, and the live checkpoint must stand after them."""
    random_commands(300, payments=40)
    apply_pending(summary)

    with ThreadPoolExecutor(max_workers=1) as background:
        with plain_connection(autocommit=False) as live_runner:
            live_runner.execute(f"SELECT 1 FROM {ProjectionCheckpoint._meta.db_table} WHERE name = %s FOR UPDATE",
                                [summary.name])
            rebuilding = background.submit(rebuild_in_its_own_session)
            assert wait_for(lambda: sessions_waiting_behind(live_runner)), "the rebuild never waited for the runner"
            meanwhile = random_commands(150, payments=60, seed=8)  # new payments and later events of known ones
        progress = rebuilding.result(timeout=120)

    assert progress.swapped and meanwhile > 0
    assert_summaries_match_a_fold_of_the_events()
    live = ProjectionCheckpoint.objects.get(name=summary.name)
    last = Event.objects.order_by("transaction_id", "position").last()
    assert (live.transaction_id, live.position) == (last.transaction_id, last.position)
    assert live.events_applied == Event.objects.count()
    assert apply_pending(summary).applied == 0
