"""Event search and correlation timelines over the store, scoped to the caller's organizations
(tenancy lives in this app). Every list of events pages the same way: `limit` and an opaque `cursor`,
answered as {"results": [...], "next": URL or null}."""

from itertools import chain, islice

from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from eventstore import selectors
from eventstore.api.ledger_views import InclusionProofSerializer, TreeSizeQuery, event_proof
from eventstore.ledger.selectors import ledger_indexes
from eventstore.web.pagination import limit_field, next_link, position_cursor, position_cursor_field, position_of
from eventstore.web.query_fields import TextFilter, TimeRangeQuery
from payments.api.serializers import EventSerializer
from payments.selectors import organizations_to_search, visible_organizations


class EventSearchQuery(TimeRangeQuery):
    event_type = TextFilter(max_length=100, help_text="e.g. PaymentProcessed")
    aggregate_type = TextFilter(max_length=100, help_text="e.g. Payment")
    organization_id = TextFilter(max_length=100, help_text="One of yours, e.g. org-456; default: all of yours.")
    currency = TextFilter(max_length=3, help_text="ISO 4217 code, e.g. EUR; any case.")
    cursor = position_cursor_field()
    limit = limit_field()


class EventPageQuery(serializers.Serializer):
    cursor = position_cursor_field()
    limit = limit_field()


def event_page(request, events, limit: int, place_of) -> Response:
    """One page of `events` (an iterator in list order) after the caller's cursor: `limit` of them
    and the link to the next page, whose cursor is `place_of` the last event shown."""
    taken = list(islice(events, limit + 1))
    shown = taken[:limit]
    cursor = position_cursor(place_of(shown[-1])) if len(taken) > limit else None
    return Response({"results": EventSerializer(shown, many=True).data, "next": next_link(request, cursor)})


def page_query(request) -> dict:
    query = EventPageQuery(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


EventPageSerializer = inline_serializer("EventPage", {
    "results": EventSerializer(many=True),
    "next": serializers.URLField(allow_null=True, help_text="URL of the next page, or null at the end."),
})


class EventSearchView(APIView):
    @extend_schema(parameters=[EventSearchQuery], responses=EventPageSerializer,
                   summary="Search events; cursor-paginated by position")
    def get(self, request):
        query = EventSearchQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        page = selectors.search_events(self._search(params), after_position=position_of(params.get("cursor")),
                                       limit=params["limit"])
        cursor = None if page.next_after_position is None else position_cursor(page.next_after_position)
        return Response({"results": EventSerializer(page.events, many=True).data, "next": next_link(request, cursor)})

    def _search(self, params) -> selectors.EventSearch:
        organizations = organizations_to_search(self.request.user, params.get("organization_id") or None)
        return selectors.EventSearch(
            event_type=params.get("event_type"), aggregate_type=params.get("aggregate_type"),
            organization_ids=organizations, currency=(params.get("currency") or "").upper() or None,
            since=params.get("from"), until=params.get("to"),
        )


class TimelineView(APIView):
    @extend_schema(parameters=[EventPageQuery], responses=EventPageSerializer,
                   summary="Every event sharing a correlation id, across payments, in order; cursor-paginated")
    def get(self, request, correlation_id):
        params = page_query(request)
        visible = visible_organizations(request.user)
        events = (event for event in selectors.events_by_correlation(correlation_id,
                                                                      after_position=position_of(params.get("cursor")))
                  if visible is None or event.metadata.get("organization_id") in visible)
        first = next(events, None)
        if first is None and not params.get("cursor"):
            raise Http404
        remaining = events if first is None else chain([first], events)
        return event_page(request, remaining, params["limit"], lambda event: event.position)



class EventProofView(APIView):
    @extend_schema(parameters=[TreeSizeQuery], responses=InclusionProofSerializer,
                   summary="RFC 9162 inclusion proof of one of your events in a signed tree head")
    def get(self, request, event_id):
        query = TreeSizeQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        event = selectors.event_by_id(event_id)
        visible = visible_organizations(request.user)
        if event is None or (visible is not None and event.metadata.get("organization_id") not in visible):
            raise Http404("No such event.")
        index = ledger_indexes([event.position])[event.position]
        return Response(event_proof(index, query.validated_data.get("tree_size")))
