"""Recording who took a period statement out, in whichever form (`eventstore.exports`): a statement
is data leaving the trail whether it is downloaded, printed from the admin or read through the API."""

from analytics.statements import Statement
from eventstore.web.export_records import record_request_export


def record_statement_export(request, statement: Statement, export_format: str) -> None:
    record_request_export(
        request, kind="statement", source="analytics.statement", export_format=export_format,
        filters={"organization_id": statement.organization_id, "from": statement.since.isoformat(),
                 "to": statement.until.isoformat(), "known_at": statement.known_at.isoformat()},
        row_count=len(statement.lines), organization_ids=[statement.organization_id])
