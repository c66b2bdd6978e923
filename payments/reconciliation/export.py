"""A run's findings as a spreadsheet table (CSV or XLSX through eventstore/web/exports.py, which
neutralises formulas): every export of findings, admin or API, goes through `findings_sheet`. The
message is in the downloader's language, its code beside it for machines."""

from collections.abc import Iterable, Iterator

from django.utils.translation import get_language, override

from eventstore.web.exports import Amount, Sheet
from payments.models import currency_decimals
from payments.reconciliation.finding_texts import finding_message
from payments.reconciliation.models import Finding

COLUMNS = ["finding", "outcome", "message", "line", "payment_id", "kind", "gross", "fee", "net", "currency",
           "trail_event_id", "trail_amount", "trail_currency", "resolved_at", "resolved_by", "note", "message_code"]


def findings_sheet(findings: Iterable[Finding]) -> Sheet:
    """Rows written as the response streams, in the language of the request that asked for them."""
    return Sheet("Findings", _rows(findings, get_language()))


def file_stem(reconciliation_id: int) -> str:
    return f"reconciliation-{reconciliation_id}-findings"


def _rows(findings: Iterable[Finding], language: str | None) -> Iterator[list]:
    """The header, then one row per finding: money as amounts in their currency, times as moments."""
    yield COLUMNS
    for finding in findings:
        with override(language):
            message = finding_message(finding)
        yield [
            finding.number, finding.outcome, message, finding.line_number, finding.payment_id, finding.kind,
            *(_money(value, finding.currency) for value in (finding.gross, finding.fee, finding.net)),
            finding.currency, finding.event_id, _money(finding.trail_amount, finding.trail_currency),
            finding.trail_currency, finding.resolved_at, (finding.resolved_by or {}).get("name", ""),
            finding.resolution_note, finding.message_code,
        ]


def _money(value, currency: str) -> Amount | None:
    return None if value is None else Amount(value, currency, currency_decimals(currency) if currency else None)
