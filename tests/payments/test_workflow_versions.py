"""PaymentEventSourcingWorkflow's versions: a command now runs two activities, and one no worker takes
says so. The histories of its earlier versions (`histories/`) are replayed with every other recorded
history by `tests/test_workflow_histories.py`."""

import uuid
from dataclasses import replace

import pytest
from temporalio.api.enums.v1 import EventType

from payments.client import CommandNotFinished, submit_command, workflow_id_for
from payments.models import PaymentSummary


@pytest.mark.django_db(transaction=True)
def test_a_command_now_runs_two_activities_and_its_summary_is_there_when_it_answers(
        temporal, run_command, command_request):
    result = run_command(command_request(amount="12.00"))

    history = temporal.run(temporal.client.get_workflow_handle(result.workflow_id).fetch_history())
    markers = [event.marker_recorded_event_attributes.marker_name for event in history.events
               if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED]
    assert markers.count("core_local_activity") == 2  # load, append (with the prompt projections)
    assert PaymentSummary.objects.get(payment_id=result.payment_id).version == result.version == 1


def test_a_command_no_worker_takes_in_time_says_so_with_its_workflow(temporal, command_request):
    request = replace(command_request(), idempotency_key="key-nobody-polls")

    with pytest.raises(CommandNotFinished) as unfinished:
        temporal.run(submit_command(temporal.client, request, task_queue=f"nobody-{uuid.uuid4()}", timeout=0.5))

    assert unfinished.value.workflow_id == workflow_id_for(request.organization_id, "key-nobody-polls")
