"""`manage.py register_search_attributes` on a namespace that lacks them, as on a new cluster."""

import uuid

from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest

from tests.processes import command_env, manage


def register(namespace: str, address: str) -> tuple[int, str]:
    process = manage("register_search_attributes", env=command_env(TEMPORAL_ADDRESS=address, TEMPORAL_NAMESPACE=namespace))
    output, _ = process.communicate(timeout=120)
    return process.returncode, output


def test_adds_the_missing_attributes_once(temporal_server):
    namespace = f"fresh-{uuid.uuid4().hex[:8]}"
    temporal_server.run(temporal_server.client.workflow_service.register_namespace(RegisterNamespaceRequest(
        namespace=namespace, workflow_execution_retention_period=Duration(seconds=86400))))

    first = register(namespace, temporal_server.address)
    second = register(namespace, temporal_server.address)

    assert first == (0, "added PaymentId, OrganizationId, CommandType\n"), first
    assert second == (0, "PaymentId, OrganizationId, CommandType were already registered\n"), second


def test_an_unreachable_server_is_one_line():
    code, output = register("default", "127.0.0.1:1")

    assert code == 1 and "Temporal is unreachable at 127.0.0.1:1" in output and "Traceback" not in output
