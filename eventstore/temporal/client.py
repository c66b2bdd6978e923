"""Starting the store's long-lived workflows from Django code: webhook deliveries."""

import asyncio
import logging

from django.conf import settings
from django.db import connection
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from eventstore.delivery.models import WebhookEndpoint
from eventstore.temporal.connection import TemporalUnavailable, shared_client, shared_loop
from eventstore.temporal.messages import DeliveryRequest
from eventstore.temporal.workflows import WebhookDeliveryWorkflow, delivery_workflow_id

logger = logging.getLogger(__name__)


def delivery_request(endpoint_id: int) -> DeliveryRequest:
    return DeliveryRequest(
        endpoint_id=endpoint_id, batch_size=settings.WEBHOOK_BATCH_SIZE, http_timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        retry_initial=settings.WEBHOOK_RETRY_INITIAL_SECONDS, retry_max=settings.WEBHOOK_RETRY_MAX_SECONDS,
    )


async def start_delivery(client: Client, endpoint_id: int) -> str:
    """Start the endpoint's delivery workflow unless it runs already; its workflow id."""
    handle = await client.start_workflow(
        WebhookDeliveryWorkflow.run, delivery_request(endpoint_id), id=delivery_workflow_id(endpoint_id),
        task_queue=settings.WEBHOOK_TASK_QUEUE, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return handle.id


async def start_all_deliveries(client: Client) -> list[str]:
    """Every endpoint's delivery workflow (the worker calls this when it starts)."""
    return [await start_delivery(client, pk) for pk in await asyncio.to_thread(_endpoint_ids)]


def _endpoint_ids() -> list[int]:
    try:
        return list(WebhookEndpoint.objects.values_list("pk", flat=True))
    finally:
        connection.close()  # this thread ends here: leave no connection behind


def ensure_delivery(endpoint: WebhookEndpoint) -> bool:
    """From synchronous code (admin, API): start the endpoint's deliveries now. False when Temporal is
    unreachable; the next worker to start starts them."""
    try:
        shared_loop().run(start_delivery(shared_client(), endpoint.pk), timeout=30)
    except TemporalUnavailable as error:
        logger.warning("Deliveries to %s start with the next worker: %s", endpoint.url, error)
        return False
    return True
