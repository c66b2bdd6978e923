"""The feed: every event of the caller's organizations, in the store's commit-consistent order, for
systems outside this project to follow. A reader keeps the `cursor` of each answer and sends it back
as `after`; it never skips an event that commits late and, reading again from a cursor, gets the
same events again. `wait` long-polls: an empty answer comes only after that many seconds without a
new event (bounded by FEED_MAX_WAIT_SECONDS, since each waiting request holds a server thread)."""

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from eventstore import registry, selectors
from eventstore.api.serializers import EventSerializer
from eventstore.delivery import subscriptions
from eventstore.delivery.cursors import commit_cursor, commit_place
from eventstore.web.pagination import commit_cursor_field, limit_field


class FeedQuery(serializers.Serializer):
    after = commit_cursor_field()
    limit = limit_field()
    wait = serializers.FloatField(
        required=False, default=0, min_value=0, max_value=settings.FEED_MAX_WAIT_SECONDS,
        help_text="Seconds to wait for new events when there are none yet (0: answer at once); "
                  "at most FEED_MAX_WAIT_SECONDS.")


FeedPageSerializer = inline_serializer("FeedPage", {
    "results": EventSerializer(many=True),
    "cursor": serializers.CharField(help_text="Pass as `after` for what follows; present on every page, also "
                                              "an empty one at the end."),
})


class FeedView(APIView):
    @extend_schema(parameters=[FeedQuery], responses=FeedPageSerializer,
                   summary="Every event of your organizations in commit order; an opaque cursor; long-poll with wait")
    def get(self, request):
        query = FeedQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        visible = registry.visible_organizations(request.user)
        matching = selectors.EventFilter(organization_ids=None if visible is None else tuple(visible))
        page = subscriptions.wait_for_page(commit_place(params.get("after")), matching, limit=params["limit"],
                                           wait=params["wait"])
        return Response({"results": EventSerializer(page.events, many=True).data, "cursor": commit_cursor(page.checkpoint)})
