"""Findings as rows for a spreadsheet, and the one function that writes them in a format (CSV):
every export of findings, admin or API, goes through `export_findings`."""

import csv
import io
from typing import Iterable, Iterator

from payments.reconciliation.models import Finding

COLUMNS = ["finding", "outcome", "message", "line", "payment_id", "kind", "gross", "fee", "net", "currency",
           "trail_event_id", "trail_amount", "trail_currency", "resolved_at", "resolved_by", "note"]
CSV = "csv"
CONTENT_TYPES = {CSV: "text/csv; charset=utf-8"}


def finding_rows(findings: Iterable[Finding]) -> Iterator[list]:
    """The header, then one row per finding; money as decimal text, times as ISO 8601."""
    yield COLUMNS
    for finding in findings:
        yield [
            finding.number, finding.outcome, finding.message, finding.line_number or "", finding.payment_id,
            finding.kind, *(_text(value) for value in (finding.gross, finding.fee, finding.net)), finding.currency,
            finding.event_id, _text(finding.trail_amount), finding.trail_currency,
            finding.resolved_at.isoformat() if finding.resolved_at else "",
            (finding.resolved_by or {}).get("name", ""), finding.resolution_note,
        ]


def _text(value) -> str:
    return "" if value is None else format(value, "f")


def export_findings(findings: Iterable[Finding], file_format: str = CSV) -> Iterator[str]:
    """The findings as the chunks of a file in `file_format`, to stream."""
    if file_format != CSV:
        raise ValueError(f"Unknown export format {file_format!r}.")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in finding_rows(findings):
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
