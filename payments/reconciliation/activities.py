"""Reconciliation activities: sync functions over the Django ORM, run by the worker in a thread pool.
Each implements a signature of `payments.reconciliation.activity_signatures`.

Each is safe to retry: a chunk replaces the lines of its own range, matching starts over (its
findings are replaced), and a finding is marked resolved once.
"""

import contextlib
import csv

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from temporalio import activity

from eventstore.temporal.errors import errors_are_final
from eventstore.temporal.worker import django_activity, implements
from payments.reconciliation import activity_signatures as signatures
from payments.reconciliation import selectors
from payments.reconciliation.matching import (
    FINDINGS,
    Outcome,
    Result,
    Totals,
    merge_by_payment,
    money,
    reconcile_payment,
)
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
from payments.reconciliation.models import Finding, Reconciliation, SettlementChunk, SettlementLine
from payments.reconciliation.settlement_format import MAPPINGS, LineRefused, Reader
from payments.reconciliation.settlement_format import SettlementLine as SettlementLineRead

MISSING = "ReconciliationMissing"
SAVED_BATCH = 2000  # rows per INSERT
PROGRESS_EVERY = 5000  # lines matched between progress updates (and heartbeats)


def _lines(text: str):
    """The text's lines one at a time (io.StringIO would copy the chunk at four bytes a character)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


@contextlib.contextmanager
def _copy(model, columns: list[str]):
    """A COPY into `model`'s table (`columns` are column names) to write rows to as they are read: a
    chunk's lines cost a fraction of building model instances, and are never all held at once."""
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
        yield copy


def _run(reconciliation_id: int) -> Reconciliation:
    return Reconciliation.objects.select_related("organization").get(pk=reconciliation_id)


@implements(signatures.begin_reconciliation)
@django_activity
@errors_are_final(Reconciliation.DoesNotExist, type_name=MISSING)
def begin_reconciliation(request: ReconciliationRequest) -> RunFacts:
    run = _run(request.reconciliation_id)
    Reconciliation.objects.filter(pk=run.pk, status=Reconciliation.Status.PENDING).update(
        status=Reconciliation.Status.READING)
    return RunFacts(
        reconciliation_id=run.pk, organization_id=run.organization_id, chunks=run.chunks, actor=run.actor,
        started={"reconciliation_id": run.pk, "organization_id": run.organization_id, "file_name": run.file_name,
                 "sha256": run.sha256, "size": run.size, "lines": run.lines_total, "mapping": run.mapping,
                 "period_start": run.period_start.isoformat(), "period_end": run.period_end.isoformat()},
    )


@implements(signatures.read_settlement_chunk)
@django_activity
@errors_are_final(Reconciliation.DoesNotExist, SettlementChunk.DoesNotExist, type_name=MISSING)
def read_settlement_chunk(request: ChunkRequest) -> ChunkOutcome:
    """Read one chunk's lines; a line that cannot be read becomes a finding naming its line number."""
    run = _run(request.reconciliation_id)
    chunk = SettlementChunk.objects.get(reconciliation=run, index=request.index)
    reader = Reader(run.header, MAPPINGS[run.mapping])
    chunk_lines = (chunk.first_line, chunk.first_line + chunk.lines - 1)
    refused = []
    with transaction.atomic():
        SettlementLine.objects.filter(reconciliation=run, line_number__range=chunk_lines).delete()
        Finding.objects.filter(reconciliation=run, line_number__range=chunk_lines).delete()
        with _copy(SettlementLine, ["reconciliation_id", *SettlementLineRead._fields]) as copy:
            for line_number, cells in enumerate(csv.reader(_lines(chunk.text)), start=chunk.first_line):
                try:
                    line = reader.read(line_number, cells)
                except LineRefused as error:
                    refused.append(Finding(reconciliation=run, outcome=Outcome.INVALID, message=str(error),
                                           message_code=error.code, message_params=error.params,
                                           line_number=line_number))
                    continue
                if line is not None:
                    copy.write_row((run.pk, *line))
        Finding.objects.bulk_create(refused, batch_size=SAVED_BATCH)
        Reconciliation.objects.filter(pk=run.pk).update(lines_read=chunk_lines[1] - 1)
    return ChunkOutcome(lines=chunk.lines, refused=len(refused))


@implements(signatures.match_settlement)
@django_activity
@errors_are_final(Reconciliation.DoesNotExist, type_name=MISSING)
def match_settlement(request: ReconciliationRequest) -> MatchOutcome:
    """Walk the lines and the trail side by side, payment by payment; record the findings, number
    them (file order, then the trail's), and return the summary with the file's totals."""
    run = _run(request.reconciliation_id)
    Reconciliation.objects.filter(pk=run.pk).update(status=Reconciliation.Status.MATCHING, lines_matched=0)
    Finding.objects.filter(reconciliation=run).exclude(outcome=Outcome.INVALID).delete()
    totals = Totals()
    totals.add_unread(Finding.objects.filter(reconciliation=run, outcome=Outcome.INVALID).count())
    pending, matched, reported = [], 0, 0
    period = (run.period_start, run.period_end)
    groups = merge_by_payment(selectors.lines_by_reference(run.pk), selectors.trail_by_payment(run))
    for payment_id, lines, entries in groups:
        for result in reconcile_payment(payment_id, lines, entries, organization_id=run.organization_id,
                                        period=period):
            totals.add(result)
            if result.outcome in FINDINGS:
                pending.append(_finding(run, result))
        matched += len(lines)
        if len(pending) >= SAVED_BATCH or matched - reported >= PROGRESS_EVERY:
            _save_progress(run, pending, matched)
            pending, reported = [], matched
    _save_progress(run, pending, matched)
    count = _number_findings(run)
    return MatchOutcome(summary=totals.as_list(), file_totals=_file_totals(run), findings=count)


def _finding(run: Reconciliation, result: Result) -> Finding:
    line, entry = result.line, result.entry
    return Finding(
        reconciliation=run, outcome=result.outcome, message=result.message, message_code=result.text.code,
        message_params=result.text.params,
        line_number=line.line_number if line else None,
        payment_id=line.reference if line else entry.payment_id if entry else "",
        kind=line.kind if line else entry.kind if entry else "",
        gross=line.gross if line else None, fee=line.fee if line else None, net=line.net if line else None,
        currency=line.currency if line else "",
        event_id=entry.event_id if entry else "", trail_amount=entry.amount if entry else None,
        trail_currency=entry.currency if entry else "",
    )


def _save_progress(run: Reconciliation, findings: list[Finding], matched: int) -> None:
    Finding.objects.bulk_create(findings, batch_size=SAVED_BATCH)
    Reconciliation.objects.filter(pk=run.pk).update(lines_matched=matched)
    activity.heartbeat(matched)


def _number_findings(run: Reconciliation) -> int:
    """Findings numbered 1, 2, ... in the file's order, then those of the trail by payment id."""
    table = Finding._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} f SET number = n.number FROM (SELECT id, row_number() OVER "
            f"(ORDER BY line_number NULLS LAST, payment_id, id) AS number FROM {table} "
            f"WHERE reconciliation_id = %s) n WHERE f.id = n.id", [run.pk])
        return cursor.rowcount


def _file_totals(run: Reconciliation) -> dict:
    sums = (SettlementLine.objects.filter(reconciliation=run).values("currency").order_by("currency")
            .annotate(gross=Sum("gross"), fee=Sum("fee"), net=Sum("net")))
    return {row["currency"]: {name: money(row[name], row["currency"]) for name in ("gross", "fee", "net")}
            for row in sums}


@implements(signatures.finish_reconciliation)
@django_activity
def finish_reconciliation(request: FinishRequest) -> None:
    Reconciliation.objects.filter(pk=request.reconciliation_id).update(
        status=Reconciliation.Status.COMPLETED if request.completed else Reconciliation.Status.FAILED,
        summary=request.summary, file_totals=request.file_totals, error=request.error[:2000],
        completed_at=timezone.now())


@implements(signatures.load_finding)
@django_activity
@errors_are_final(Finding.DoesNotExist, type_name="FindingMissing")
def load_finding(request: ResolutionRequest) -> FindingFacts:
    finding = Finding.objects.select_related("reconciliation").get(
        reconciliation_id=request.reconciliation_id, number=request.number)
    return FindingFacts(organization_id=finding.reconciliation.organization_id, outcome=finding.outcome,
                        payment_id=finding.payment_id, line_number=finding.line_number,
                        resolved=finding.resolved_at is not None)


@implements(signatures.mark_finding_resolved)
@django_activity
def mark_finding_resolved(record: ResolutionRecord) -> bool:
    """False when someone resolved it first (their note stays)."""
    return bool(Finding.objects.filter(
        reconciliation_id=record.reconciliation_id, number=record.number, resolved_at__isnull=True,
    ).update(resolved_at=parse_datetime(record.recorded_at), resolved_by=record.actor,
             resolution_note=record.note, resolution_event_id=record.event_id))


ACTIVITIES = [begin_reconciliation, read_settlement_chunk, match_settlement, finish_reconciliation, load_finding,
              mark_finding_resolved]
