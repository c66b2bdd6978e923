"""Events over the API, scoped to the caller's organizations (`registry.visible_organizations`):
search, correlation timelines and one event's inclusion proof in a signed tree head. Lists of
events page as `eventstore.api.pages` describes."""

from itertools import chain

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from eventstore import registry, selectors
from eventstore.api.ledger import InclusionProofSerializer, TreeSizeQuery, as_not_found
from eventstore.api.pages import EventPageQuery, EventPageSerializer, event_page, page_query
from eventstore.api.serializers import EventSerializer
from eventstore.ledger import proofs
from eventstore.web.pagination import limit_field, next_link, position_cursor, position_cursor_field, position_of
from eventstore.web.query_fields import TextFilter, TimeRangeQuery


class EventSearchQuery(TimeRangeQuery):
    event_type = TextFilter(max_length=100, help_text="e.g. PaymentProcessed")
    aggregate_type = TextFilter(max_length=100, help_text="e.g. Payment")
    organization_id = TextFilter(max_length=100, help_text="One of yours, e.g. org-456; default: all of yours.")
    currency = TextFilter(max_length=3, help_text="ISO 4217 code, e.g. EUR; any case.")
    cursor = position_cursor_field()
    limit = limit_field()


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
        organizations = registry.organizations_to_search(self.request.user, params.get("organization_id") or None)
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
        visible = registry.visible_organizations(request.user)
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
        try:
            proof = proofs.inclusion_proof(selectors.event_by_id(event_id),
                                           organization_ids=registry.visible_organizations(request.user),
                                           tree_size=query.validated_data.get("tree_size"))
        except proofs.ProofRefused as refusal:
            raise as_not_found(refusal) from None
        return Response(proof.document())
