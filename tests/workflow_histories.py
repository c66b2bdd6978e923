"""Recorded workflow histories: where they are kept, how they are replayed and how they are recorded.

Each app keeps the histories of its workflow types in a `histories/` folder beside its tests, as the
JSON `temporal workflow show --output json` prints. They are frozen: `tests/test_workflow_histories.py`
replays every one with the options every worker runs with, so a change to a workflow's commands that
a run in flight could not follow fails the suite until it is behind a `workflow.patched()` marker.
`tests/record_workflow_histories.py` records them again. They are kept as the workflows' payloads read
in plain text (`save` decrypts them): a checkout with other payload keys replays them all the same, as
the codec passes plain payloads through.
"""

import json
from pathlib import Path
from typing import Iterator

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from eventstore.temporal.connection import data_converter
from eventstore.temporal.payload_codec import payload_codec
from eventstore.temporal.worker import worker_options

TESTS = Path(__file__).parent
HISTORY_FOLDERS = [TESTS / "eventstore" / "temporal" / "histories", TESTS / "payments" / "histories",
                   TESTS / "analytics" / "histories"]

CLOSING_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
}


def recorded_paths() -> list[Path]:
    return sorted(path for folder in HISTORY_FOLDERS for path in folder.glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text())


def workflow_type(history: WorkflowHistory) -> str:
    return history.events[0].workflow_execution_started_event_attributes.workflow_type.name


def closing_event(history: WorkflowHistory) -> EventType.ValueType | None:
    """How the run ended, or None for a history cut while it ran."""
    last = history.events[-1].event_type
    return last if last in CLOSING_EVENTS else None


def replayer() -> Replayer:
    """A Replayer with the workflows, interceptors, sandbox and data converter a worker runs with."""
    options = worker_options()
    return Replayer(workflows=options["workflows"], interceptors=options["interceptors"],
                    workflow_runner=options["workflow_runner"], data_converter=data_converter())


def cut_while_running(history: WorkflowHistory) -> WorkflowHistory:
    """The history as it stood while its last activity ran: up to its last ActivityTaskScheduled, the
    state a worker deployed at that moment has to take over."""
    scheduled = [index for index, event in enumerate(history.events)
                 if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
    return WorkflowHistory(history.workflow_id, history.events[:scheduled[-1] + 1])


def save(history: WorkflowHistory, path: Path) -> None:
    """Written as `temporal workflow show --output json` prints it, but one event a line: a third
    smaller, and a diff still shows which events changed. Failures keep their messages and types but
    not their stack traces: replay never reads them, and they name the recording machine's paths."""
    history = decrypted(history)
    events = [_without_stack_traces(event) for event in json.loads(history.to_json())["events"]]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"events": [\n' + ",\n".join(json.dumps(event, separators=(",", ":")) for event in events)
                    + "\n]}\n")


def decrypted(history: WorkflowHistory) -> WorkflowHistory:
    """A copy of `history` with every payload decrypted by the configured keys."""
    codec = payload_codec()
    if codec is None:
        return history
    events = [type(event).FromString(event.SerializeToString()) for event in history.events]
    for payload in [payload for event in events for payload in payloads_in(event)]:
        payload.CopyFrom(codec.decrypt(payload))
    return WorkflowHistory(history.workflow_id, events)


def payloads_in(message: Message) -> Iterator[Payload]:
    """Every Payload inside a protobuf message (a history event, say), wherever it sits."""
    for field, value in message.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        if field.message_type.GetOptions().map_entry:
            values = value.values()
        elif field.is_repeated:
            values = value
        else:
            values = [value]
        for item in values:
            if isinstance(item, Payload):
                yield item
            elif isinstance(item, Message):
                yield from payloads_in(item)


def _without_stack_traces(value):
    if isinstance(value, dict):
        return {key: _without_stack_traces(item) for key, item in value.items() if key != "stackTrace"}
    if isinstance(value, list):
        return [_without_stack_traces(item) for item in value]
    return value
