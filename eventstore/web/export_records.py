"""Recording an export made through a request (an admin page, an API endpoint): the exporter is the
request's authenticated principal (`request_actor`), never anything the request says of itself."""

from collections.abc import Iterable, Mapping

from django.http import QueryDict
from rest_framework.request import Request

from eventstore.events import RecordedEvent
from eventstore.exports import record_export


def request_actor(request) -> dict:
    """Who is asking, as `metadata.actor` records it: the user, the channel, and the API token's public
    id when one authenticated the request (DRF's `request.auth`)."""
    user = request.user
    credential = getattr(getattr(request, "auth", None), "credential_id", "")
    actor = {"kind": "api_token" if credential else "user", "id": str(user.pk), "name": user.get_username(),
             "channel": "api" if isinstance(request, Request) else "admin"}
    return {**actor, "credential": credential} if credential else actor


def record_request_export(request, *, kind: str, source: str, export_format: str, filters: Mapping, row_count: int,
                          organization_ids: Iterable[str] | None, complete: bool = True) -> RecordedEvent:
    """`eventstore.exports.record_export` of an export made by the request's user."""
    return record_export(actor=request_actor(request), user_id=request.user.get_username(), kind=kind, source=source,
                         export_format=export_format, filters=filters, row_count=row_count,
                         organization_ids=organization_ids, complete=complete)


def query_filters(query: QueryDict, *, leave_out: Iterable[str] = ()) -> dict:
    """A request's query parameters as filters: one value as text, several as a list."""
    return {name: values[0] if len(values) == 1 else values
            for name, values in query.lists() if name not in set(leave_out)}
