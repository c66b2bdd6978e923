"""Every workflow type's recorded histories replay on today's code, with the options every worker runs
with: a release deployed while those runs are in flight continues them as they began. A change to a
workflow's commands that fails here needs a `workflow.patched()` marker (README, "Temporal")."""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from temporalio.api.enums.v1 import EventType

from eventstore import registry
from eventstore.temporal.workflows import EventStoreWorkflow, ProjectionCatchUpWorkflow, WebhookDeliveryWorkflow
from tests.workflow_histories import TESTS, closing_event, load, recorded_paths, replayer, workflow_type

RECORDED = recorded_paths()
LONG_LIVED = [ProjectionCatchUpWorkflow, WebhookDeliveryWorkflow]


@pytest.mark.parametrize("path", RECORDED, ids=lambda path: str(path.relative_to(TESTS).with_suffix("")))
def test_a_recorded_history_replays_on_todays_code(path):
    history = load(path)
    # On a thread of its own: a browser test earlier in the session leaves an event loop running on
    # this one, where asyncio.run refuses to start another.
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(lambda: asyncio.run(replayer().replay_workflow(history))).result()


def test_every_declared_workflow_type_has_a_recorded_history():
    recorded = {workflow_type(load(path)) for path in RECORDED}
    declared = {definition.__temporal_workflow_definition.name for definition in registry.workflows()}
    assert declared - recorded == set()


@pytest.mark.parametrize("long_lived", LONG_LIVED, ids=lambda definition: definition.__name__)
def test_a_long_lived_workflow_has_a_history_cut_mid_flight_and_one_that_continued_as_new(long_lived):
    name = long_lived.__temporal_workflow_definition.name
    endings = {closing_event(history) for history in map(load, RECORDED) if workflow_type(history) == name}
    assert {None, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW} <= endings


def test_every_event_store_operation_has_a_recorded_history():
    name = EventStoreWorkflow.__temporal_workflow_definition.name
    operations = {_first_input(history)["operation"] for history in map(load, RECORDED)
                  if workflow_type(history) == name}
    assert {"append", "get_events", "get_events_by_type"} <= operations


def _first_input(history) -> dict:
    payload = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    return json.loads(payload.data)
