"""The search attributes the apps' workflows carry, on a namespace that lacks them, as on a new cluster:
`manage.py register_search_attributes`, and what the worker does with them when it starts."""

import signal

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest

from tests.processes import command_env, manage
from tests.temporal_harness import names_the_missing_search_attributes

NAMES = ("PaymentId", "OrganizationId", "CommandType")
# A namespace of the dev server (SQL visibility) holds at most this many custom keyword attributes.
KEYWORD_SLOTS = 10


def register(namespace: str, address: str) -> tuple[int, str]:
    process = manage("register_search_attributes", env=command_env(TEMPORAL_ADDRESS=address, TEMPORAL_NAMESPACE=namespace))
    output, _ = process.communicate(timeout=120)
    return process.returncode, output


def registered(temporal_server, namespace: str) -> set[str]:
    listed = temporal_server.run(temporal_server.client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)))
    return set(listed.custom_attributes)


def test_adds_the_missing_attributes_once(temporal_server):
    namespace = temporal_server.new_namespace()

    first = register(namespace, temporal_server.address)
    second = register(namespace, temporal_server.address)

    assert first == (0, "added PaymentId, OrganizationId, CommandType\n"), first
    assert second == (0, "PaymentId, OrganizationId, CommandType were already registered\n"), second


def test_an_unreachable_server_is_one_line():
    code, output = register("default", "127.0.0.1:1")

    assert code == 1 and "Temporal is unreachable at 127.0.0.1:1" in output and "Traceback" not in output


def start_worker(temporal_server, namespace: str):
    return manage("temporal_worker", "--no-catch-up", "--no-webhooks", "--task-queue", f"queue-{namespace}",
                  env=command_env(TEMPORAL_ADDRESS=temporal_server.address, TEMPORAL_NAMESPACE=namespace))


@pytest.mark.django_db(transaction=True)
def test_the_worker_adds_them_where_the_server_lets_it(temporal_server):
    namespace = temporal_server.new_namespace()

    process = start_worker(temporal_server, namespace)
    try:
        for line in process.stdout:
            if "Worker polling" in line or "Traceback" in line:
                break
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()

    assert set(NAMES) <= registered(temporal_server, namespace), output
    assert process.returncode == 0, output


@pytest.mark.django_db(transaction=True)
def test_the_worker_refuses_to_start_in_one_line_where_the_server_refuses_them(temporal_server):
    """The dev server refuses them as a cluster refuses a worker without the right to: here because
    another application filled the namespace's keyword attributes."""
    namespace = temporal_server.new_namespace()
    temporal_server.run(temporal_server.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
        namespace=namespace, search_attributes={f"Other{slot}": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
                                                for slot in range(KEYWORD_SLOTS)})))

    process = start_worker(temporal_server, namespace)
    try:
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()

    assert process.returncode == 1, output
    assert names_the_missing_search_attributes(output, namespace), output
    assert "Traceback" not in output and "Worker polling" not in output, output

