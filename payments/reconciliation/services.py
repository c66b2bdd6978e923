"""Writes of reconciliations: importing a settlement file (stored in chunks, its run started) and
resolving a finding.

The upload is read twice as a stream, never whole: once for its SHA-256 (the same file for the same
organization is imported once: the answer is the earlier run), once to check its header, find its
period and store it in chunks of CHUNK_LINES records.
"""

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction

from eventstore.actors import Actor
from eventstore.temporal.connection import TemporalUnavailable
from payments.models import Organization
from payments.reconciliation import client, selectors
from payments.reconciliation.messages import ResolutionOutcome, ResolutionRequest
from payments.reconciliation.models import Finding, Reconciliation, SettlementChunk
from payments.reconciliation.settlement_format import AUTO, FileRefused, LineRefused, Reader, choose_mapping

CHUNK_LINES = 10_000
BLOCK_BYTES = 1 << 16
MAX_NOTE_LENGTH = 2000


@dataclass(frozen=True)
class Imported:
    reconciliation: Reconciliation
    created: bool  # False: the same file was imported before, and this is that run


def import_settlement_file(*, organization: Organization, upload, file_name: str, actor: Actor, user=None,
                           mapping: str = AUTO, period: tuple[date, date] | None = None) -> Imported:
    """Store `upload` (a binary file object) as a new run and start it; or the earlier run of the
    same file. FileRefused for a file that cannot be read (nothing is stored); TemporalUnavailable
    when the run cannot be started (nothing is kept)."""
    sha256, size = _digest(upload)
    earlier = selectors.earlier_import(organization.pk, sha256)
    if earlier is not None:
        return Imported(earlier, created=False)
    try:
        with transaction.atomic():
            run = _store(upload, organization=organization, file_name=file_name.replace("\x00", "")[:255],
                         sha256=sha256, size=size, mapping=mapping, period=period, actor=actor.to_dict(), user=user)
    except IntegrityError:  # the same file, imported at the same moment by someone else
        return Imported(selectors.earlier_import(organization.pk, sha256), created=False)
    try:
        run.workflow_id = client.start_reconciliation(run.pk, str(run.key), actor)
    except TemporalUnavailable:
        run.delete()
        raise
    run.save(update_fields=["workflow_id"])
    return Imported(run, created=True)


def _digest(upload) -> tuple[str, int]:
    upload.seek(0)
    digest, size = hashlib.sha256(), 0
    while block := upload.read(BLOCK_BYTES):
        digest.update(block)
        size += len(block)
    upload.seek(0)
    return digest.hexdigest(), size


def _store(upload, *, organization, file_name, sha256, size, mapping, period, actor, user) -> Reconciliation:
    text = io.TextIOWrapper(upload, encoding="utf-8-sig", newline="")
    try:
        records = csv.reader(text)
        header = next(records, None)
        if not header or not any(cell.strip() for cell in header):
            raise FileRefused("empty")
        _refuse_nul(1, header)
        chosen = choose_mapping(header, mapping)
        run = Reconciliation.objects.create(
            organization=organization, file_name=file_name, sha256=sha256, size=size, mapping=chosen.name,
            header=header, period_start=date.min, period_end=date.min, actor=actor, created_by=user)
        lines, booked = _store_chunks(run, records, Reader(header, chosen))
    except UnicodeDecodeError:
        raise FileRefused("not_utf8") from None
    except csv.Error as error:
        raise FileRefused("not_csv", line=records.line_num, error=str(error)) from None
    finally:
        text.detach()
    if not lines:
        raise FileRefused("no_lines")
    if period is None and not booked:
        raise FileRefused("no_booking_date")
    run.period_start, run.period_end = period or booked
    run.lines_total = lines
    run.save(update_fields=["period_start", "period_end", "lines_total", "chunks"])
    return run


def _store_chunks(run: Reconciliation, records, reader: Reader) -> tuple[int, tuple[date, date] | None]:
    """Write the records CHUNK_LINES at a time; the lines counted and the first and last booking
    dates (None when no line has one)."""
    lines, booked, index = 0, None, 0
    while True:
        buffer, first_line, count = _Pieces(), lines + 2, 0  # line 1 is the header
        writer = csv.writer(buffer, lineterminator="\n")
        for cells in records:
            _refuse_nul(first_line + count, cells)
            writer.writerow(cells)
            count += 1
            day = _booking_date(reader, first_line + count - 1, cells)
            if day is not None:
                booked = (min(booked[0], day), max(booked[1], day)) if booked else (day, day)
            if count == CHUNK_LINES:
                break
        if not count:
            break
        SettlementChunk.objects.create(reconciliation=run, index=index, first_line=first_line, lines=count,
                                       text="".join(buffer))
        lines, index = lines + count, index + 1
        if count < CHUNK_LINES:
            break
    run.chunks = index
    return lines, booked


def _refuse_nul(line_number: int, cells: list[str]) -> None:
    """No text column can store a NUL character, and no settlement needs one."""
    if any("\x00" in cell for cell in cells):
        raise FileRefused("nul", line=line_number)


class _Pieces(list):
    """What a csv.writer writes, kept as the pieces it wrote (io.StringIO holds four bytes a character)."""

    def write(self, text: str) -> None:
        self.append(text)


def _booking_date(reader: Reader, line_number: int, cells: list[str]) -> date | None:
    try:
        return reader.booking_date(line_number, cells)
    except LineRefused:
        return None  # the run reports the line


def resolve_finding(*, finding: Finding, note: str, actor: Actor) -> ResolutionOutcome:
    """Record the resolution (ReconciliationFindingResolved, with its actor) and mark the finding
    resolved. client.AlreadyResolved when it was; ValueError for an empty or long note."""
    note = note.strip()
    if not note or len(note) > MAX_NOTE_LENGTH:
        raise ValueError(f"A note of 1 to {MAX_NOTE_LENGTH} characters says how the finding was resolved.")
    if finding.resolved_at is not None:
        raise client.AlreadyResolved(f"Finding {finding.number} was already resolved.")
    return client.resolve(ResolutionRequest(finding.reconciliation_id, finding.number, note, actor.to_dict()),
                          str(finding.reconciliation.key), actor)
