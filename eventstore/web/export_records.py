"""Recording an export made through a request (an admin page, an API endpoint): the exporter is the
request's authenticated principal (`actor_of_request`), never anything the request says of itself."""

from collections.abc import Iterable, Mapping

from django.http import QueryDict

from eventstore.events import RecordedEvent
from eventstore.exports import record_export
from eventstore.web.actors import actor_of_request


def record_request_export(request, *, kind: str, source: str, export_format: str, filters: Mapping, row_count: int,
                          organization_ids: Iterable[str] | None, complete: bool = True) -> RecordedEvent:
    """`eventstore.exports.record_export` of an export made by the request's user."""
    return record_export(actor=actor_of_request(request), user_id=request.user.get_username(), kind=kind, source=source,
                         export_format=export_format, filters=filters, row_count=row_count,
                         organization_ids=organization_ids, complete=complete)


def query_filters(query: QueryDict, *, leave_out: Iterable[str] = ()) -> dict:
    """A request's query parameters as filters: one value as text, several as a list."""
    return {name: values[0] if len(values) == 1 else values
            for name, values in query.lists() if name not in set(leave_out)}
