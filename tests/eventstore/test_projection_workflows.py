"""The catch-up loop and the replay (rebuild) workflow through a real worker."""

import time
import uuid

import pytest

from eventstore.messages import CatchUpRequest, RebuildRequest
from eventstore.projection_lag import lag
from eventstore.projections import apply_all_pending
from eventstore.workflows import ProjectionCatchUpWorkflow, ProjectionReplayWorkflow
from tests.payments.history import assert_summaries_match_a_fold_of_the_events, random_commands, summary_rows

pytestmark = pytest.mark.django_db(transaction=True)


def test_catch_up_loop_applies_events_appended_while_nobody_published(temporal):
    random_commands(200, payments=30)
    handle = temporal.run(temporal.client.start_workflow(
        ProjectionCatchUpWorkflow.run, CatchUpRequest(seconds=2, idle_pause=0.05),
        id=f"catch-up-{uuid.uuid4()}", task_queue=temporal.task_queue,
    ))
    try:
        deadline = time.monotonic() + 60
        while any(item.events_behind for item in lag()):
            assert time.monotonic() < deadline, lag()
            time.sleep(0.1)
        random_commands(50, payments=30, seed=9)
        while any(item.events_behind for item in lag()):
            assert time.monotonic() < deadline, lag()
            time.sleep(0.1)
    finally:
        temporal.run(handle.terminate("test over"))
        time.sleep(2.5)  # the running activity notices at its next heartbeat, or ends after its 2 s
    assert_summaries_match_a_fold_of_the_events()


def test_replay_workflow_rebuilds_and_swaps(temporal):
    random_commands(300, payments=50)
    apply_all_pending()
    before = summary_rows()

    outcomes = temporal.run(temporal.client.execute_workflow(
        ProjectionReplayWorkflow.run, [RebuildRequest("payment_summary", restart=True, batch_size=100)],
        id=f"replay-{uuid.uuid4()}", task_queue=temporal.task_queue,
    ))

    assert [(outcome.projection, outcome.swapped) for outcome in outcomes] == [("payment_summary", True)]
    assert summary_rows() == before
