"""The reconciliation activities as workflows call them: each one's name and types, with a body that
never runs. Pure Python, no Django; `eventstore/temporal/activity_signatures.py` says why."""

from temporalio import activity

from payments.reconciliation.messages import (
    ChunkOutcome,
    ChunkRequest,
    FindingFacts,
    FinishRequest,
    MatchOutcome,
    ReconciliationRequest,
    ResolutionRecord,
    ResolutionRequest,
    RunFacts,
)


@activity.defn(name="payments.reconciliation.begin")
def begin_reconciliation(request: ReconciliationRequest) -> RunFacts:
    """Implemented by `payments.reconciliation.activities.begin_reconciliation`."""
    raise NotImplementedError


@activity.defn(name="payments.reconciliation.read_chunk")
def read_settlement_chunk(request: ChunkRequest) -> ChunkOutcome:
    """Implemented by `payments.reconciliation.activities.read_settlement_chunk`."""
    raise NotImplementedError


@activity.defn(name="payments.reconciliation.match")
def match_settlement(request: ReconciliationRequest) -> MatchOutcome:
    """Implemented by `payments.reconciliation.activities.match_settlement`."""
    raise NotImplementedError


@activity.defn(name="payments.reconciliation.finish")
def finish_reconciliation(request: FinishRequest) -> None:
    """Implemented by `payments.reconciliation.activities.finish_reconciliation`."""
    raise NotImplementedError


@activity.defn(name="payments.reconciliation.finding")
def load_finding(request: ResolutionRequest) -> FindingFacts:
    """Implemented by `payments.reconciliation.activities.load_finding`."""
    raise NotImplementedError


@activity.defn(name="payments.reconciliation.mark_resolved")
def mark_finding_resolved(record: ResolutionRecord) -> bool:
    """Implemented by `payments.reconciliation.activities.mark_finding_resolved`."""
    raise NotImplementedError
