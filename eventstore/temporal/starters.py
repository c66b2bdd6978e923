"""Who started a workflow, as Temporal reports it: the `identity` of the client whose request opened
the workflow's history (its first event). Events appended without a valid actor seal name it, so a
plain Temporal client is recorded as what it is. One history read per workflow run, remembered."""

import threading
from collections import OrderedDict

from temporalio.client import Client

from eventstore.temporal.connection import shared_client, shared_loop

REMEMBERED_RUNS = 1024

_remembered: OrderedDict[tuple[str, str, str], str] = OrderedDict()
_lock = threading.Lock()


def starter_identity(*, namespace: str, workflow_id: str, run_id: str) -> str:
    """The identity the starter of this workflow run gave Temporal ("" when it gave none)."""
    key = (namespace, workflow_id, run_id)
    with _lock:
        if key in _remembered:
            _remembered.move_to_end(key)
            return _remembered[key]
    identity = shared_loop().run(_first_event_identity(shared_client(), namespace, workflow_id, run_id), timeout=30)
    with _lock:
        _remembered[key] = identity
        while len(_remembered) > REMEMBERED_RUNS:
            _remembered.popitem(last=False)
    return identity


async def _first_event_identity(client: Client, namespace: str, workflow_id: str, run_id: str) -> str:
    if namespace and namespace != client.namespace:
        client = Client(client.service_client, namespace=namespace, data_converter=client.data_converter)
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    async for event in handle.fetch_history_events(page_size=1):
        return event.workflow_execution_started_event_attributes.identity
    return ""
