"""What crosses the Temporal boundary for reconciliations. Pure Python, no Django; money as decimal
strings inside the summaries."""

from dataclasses import dataclass, field


@dataclass
class ReconciliationRequest:
    reconciliation_id: int
    actor_seal: str = ""  # the uploader, sealed by payments.reconciliation.client for the workflow


@dataclass
class RunFacts:
    """What the workflow records when the run starts: the ReconciliationStarted data and who uploaded."""

    reconciliation_id: int
    organization_id: str
    chunks: int
    started: dict
    actor: dict


@dataclass
class ChunkRequest:
    reconciliation_id: int
    index: int


@dataclass
class ChunkOutcome:
    lines: int
    refused: int  # lines that could not be read: findings of their own


@dataclass
class MatchOutcome:
    summary: list[dict]  # count and sums by outcome and currency (matching.Totals.as_list())
    file_totals: dict  # gross, fee and net by currency, of the lines read
    findings: int


@dataclass
class FinishRequest:
    reconciliation_id: int
    completed: bool
    error: str = ""
    summary: list[dict] = field(default_factory=list)
    file_totals: dict = field(default_factory=dict)


@dataclass
class ResolutionRequest:
    reconciliation_id: int
    number: int
    note: str
    actor: dict  # who resolves it, for people; what the event records comes from the seal
    actor_seal: str = ""  # sealed by payments.reconciliation.client for the workflow (eventstore.temporal.actor_seals)


@dataclass
class FindingFacts:
    """The finding as its ReconciliationFindingResolved event names it; `resolved` if it already is."""

    organization_id: str
    outcome: str
    payment_id: str
    line_number: int | None
    resolved: bool


@dataclass
class ResolutionRecord:
    reconciliation_id: int
    number: int
    note: str
    actor: dict
    event_id: str
    recorded_at: str  # ISO 8601


@dataclass
class ResolutionOutcome:
    resolved: bool  # False: it had been resolved already, and stays as it was
    event_id: str = ""
