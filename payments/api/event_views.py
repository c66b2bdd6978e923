"""Event search and correlation timelines over the store, scoped to the caller's organizations
(tenancy lives in this app)."""

import base64
import binascii

from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from eventstore import selectors
from eventstore.api.queries import TimeRangeQuery
from payments.api.serializers import EventSerializer
from payments.selectors import organizations_to_search, visible_organizations

MAX_PAGE = 500


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if not text.startswith("p"):
            raise ValueError
        return int(text[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise serializers.ValidationError({"cursor": "Not a cursor this API gave out."}) from None


class EventSearchQuery(TimeRangeQuery):
    event_type = serializers.CharField(required=False, max_length=100)
    aggregate_type = serializers.CharField(required=False, max_length=100)
    organization_id = serializers.CharField(required=False, max_length=100)
    currency = serializers.CharField(required=False, min_length=3, max_length=3)
    cursor = serializers.CharField(required=False, max_length=100)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE, default=100)

EventPageSerializer = inline_serializer("EventPage", {
    "results": EventSerializer(many=True),
    "next": serializers.CharField(allow_null=True, help_text="URL of the next page, or null at the end."),
})


class EventSearchView(APIView):
    @extend_schema(parameters=[EventSearchQuery], responses=EventPageSerializer,
                   summary="Search events; cursor-paginated by position")
    def get(self, request):
        query = EventSearchQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        page = selectors.search_events(self._search(params), after_position=decode_cursor(params["cursor"])
                                       if params.get("cursor") else 0, limit=params["limit"])
        next_url = None
        if page.next_after_position is not None:
            next_query = request.query_params.copy()
            next_query["cursor"] = encode_cursor(page.next_after_position)
            next_url = request.build_absolute_uri(f"{request.path}?{next_query.urlencode()}")
        return Response({"results": EventSerializer(page.events, many=True).data, "next": next_url})

    def _search(self, params) -> selectors.EventSearch:
        organizations = organizations_to_search(self.request.user, params.get("organization_id"))
        return selectors.EventSearch(
            event_type=params.get("event_type"), aggregate_type=params.get("aggregate_type"),
            organization_ids=organizations, currency=(params.get("currency") or "").upper() or None,
            since=params.get("from"), until=params.get("to"),
        )


class TimelineView(APIView):
    @extend_schema(responses=EventSerializer(many=True),
                   summary="Every event sharing a correlation id, across payments, in order")
    def get(self, request, correlation_id):
        visible = visible_organizations(request.user)
        events = [event for event in selectors.events_by_correlation(correlation_id)
                  if visible is None or event.metadata.get("organization_id") in visible]
        if not events:
            raise Http404
        return Response(EventSerializer(events, many=True).data)
