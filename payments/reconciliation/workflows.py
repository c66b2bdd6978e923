"""ReconciliationWorkflow: one settlement file against the trail; ReconciliationResolutionWorkflow:
one finding resolved with a note. Deterministic: the work is in activities over Django.

A run records ReconciliationStarted, reads the stored file one chunk per activity (progress after
each), matches in one long activity that heartbeats, records ReconciliationCompleted with the
findings summary and marks the run completed. An error that retrying cannot fix (a file whose
lines vanished, a summary the store refuses) records ReconciliationFailed and marks the run failed.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from eventstore.temporal.activity_signatures import append_events
    from eventstore.temporal.messages import AppendOutcome, AppendRequest, EventInput
    from payments.reconciliation.activity_signatures import (
        begin_reconciliation,
        finish_reconciliation,
        load_finding,
        mark_finding_resolved,
        match_settlement,
        read_settlement_chunk,
    )
    from payments.reconciliation.events import AGGREGATE_TYPE, EventType, stream_id
    from payments.reconciliation.messages import (
        ChunkRequest,
        FinishRequest,
        MatchOutcome,
        ReconciliationRequest,
        ResolutionOutcome,
        ResolutionRecord,
        ResolutionRequest,
    )

RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), backoff_coefficient=2,
                    maximum_interval=timedelta(seconds=10), maximum_attempts=10)
SHORT = dict(start_to_close_timeout=timedelta(seconds=60), retry_policy=RETRY)
MATCHING = dict(start_to_close_timeout=timedelta(hours=1), heartbeat_timeout=timedelta(seconds=60),
                retry_policy=RETRY)


def _metadata(organization_id: str) -> dict:
    info = workflow.info()
    return {"organization_id": organization_id, "workflow_id": info.workflow_id, "run_id": info.run_id,
            "correlation_id": info.workflow_id}


async def _record(reconciliation_id: int, event_type: str, data: dict, metadata: dict,
                  actor_seal: str) -> AppendOutcome:
    """Append one event of the run; the append activity stamps the actor the seal names."""
    return await workflow.execute_activity(append_events, AppendRequest(
        stream_id=stream_id(reconciliation_id), aggregate_type=AGGREGATE_TYPE,
        events=[EventInput(str(event_type), data, metadata, str(workflow.uuid4()))],
        actor_seals={"actor": actor_seal} if actor_seal else {}), **SHORT)


@workflow.defn(name="ReconciliationWorkflow")
class ReconciliationWorkflow:
    @workflow.run
    async def run(self, request: ReconciliationRequest) -> MatchOutcome:
        facts = await workflow.execute_activity(begin_reconciliation, request, **SHORT)
        metadata, seal = _metadata(facts.organization_id), request.actor_seal
        await _record(request.reconciliation_id, EventType.STARTED, facts.started, metadata, seal)
        try:
            for index in range(facts.chunks):
                await workflow.execute_activity(read_settlement_chunk, ChunkRequest(request.reconciliation_id, index),
                                                **SHORT)
            outcome = await workflow.execute_activity(match_settlement, request, **MATCHING)
            await _record(request.reconciliation_id, EventType.COMPLETED, {
                "reconciliation_id": request.reconciliation_id, "summary": outcome.summary,
                "file_totals": outcome.file_totals, "findings": outcome.findings}, metadata, seal)
        except ActivityError as error:
            message = str(error.cause or error)
            await _record(request.reconciliation_id, EventType.FAILED,
                          {"reconciliation_id": request.reconciliation_id, "error": message}, metadata, seal)
            await workflow.execute_activity(finish_reconciliation, FinishRequest(
                request.reconciliation_id, completed=False, error=message), **SHORT)
            raise
        await workflow.execute_activity(finish_reconciliation, FinishRequest(
            request.reconciliation_id, completed=True, summary=outcome.summary, file_totals=outcome.file_totals),
            **SHORT)
        return outcome


@workflow.defn(name="ReconciliationResolutionWorkflow")
class ReconciliationResolutionWorkflow:
    """Records the resolution, then marks the finding resolved; a finding already resolved is left
    as it was and nothing is recorded."""

    @workflow.run
    async def run(self, request: ResolutionRequest) -> ResolutionOutcome:
        finding = await workflow.execute_activity(load_finding, request, **SHORT)
        if finding.resolved:
            return ResolutionOutcome(resolved=False)
        data = {"reconciliation_id": request.reconciliation_id, "finding": request.number,
                "outcome": finding.outcome, "note": request.note, "payment_id": finding.payment_id}
        if finding.line_number is not None:
            data["line_number"] = finding.line_number
        appended = await _record(request.reconciliation_id, EventType.FINDING_RESOLVED, data,
                                 _metadata(finding.organization_id), request.actor_seal)
        event = appended.events[0]
        resolved = await workflow.execute_activity(mark_finding_resolved, ResolutionRecord(
            request.reconciliation_id, request.number, request.note, event.metadata.get("actor", {}), event.event_id,
            event.recorded_at), **SHORT)
        return ResolutionOutcome(resolved=resolved, event_id=event.event_id)


WORKFLOWS = [ReconciliationWorkflow, ReconciliationResolutionWorkflow]
