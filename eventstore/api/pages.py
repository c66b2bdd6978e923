"""Pages of events, as every list of events pages: `limit` and an opaque `cursor` in the query,
answered as {"results": [...], "next": URL or null}. Apps' views of events (a payment's history)
page the same way."""

from itertools import islice

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from eventstore.api.serializers import EventSerializer
from eventstore.web.pagination import limit_field, next_link, position_cursor, position_cursor_field


class EventPageQuery(serializers.Serializer):
    cursor = position_cursor_field()
    limit = limit_field()


EventPageSerializer = inline_serializer("EventPage", {
    "results": EventSerializer(many=True),
    "next": serializers.URLField(allow_null=True, help_text="URL of the next page, or null at the end."),
})


def page_query(request) -> dict:
    query = EventPageQuery(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


def event_page(request, events, limit: int, place_of) -> Response:
    """One page of `events` (an iterator in list order) after the caller's cursor: `limit` of them
    and the link to the next page, whose cursor is `place_of` the last event shown."""
    taken = list(islice(events, limit + 1))
    shown = taken[:limit]
    cursor = position_cursor(place_of(shown[-1])) if len(taken) > limit else None
    return Response({"results": EventSerializer(shown, many=True).data, "next": next_link(request, cursor)})
