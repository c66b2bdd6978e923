"""Webhook endpoints through the API, per organization (`registry.visible_organizations`): a member
of an organization registers, lists, pauses, resumes, replays and removes its endpoints and reads
their delivery log; only users who see every organization may register one for all of them. The
secret is shown when an endpoint is registered, and to those who may see the endpoint."""

from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from eventstore import registry
from eventstore.delivery import lag as subscription_lag
from eventstore.delivery import subscriptions, webhooks
from eventstore.delivery.cursors import commit_place
from eventstore.delivery.models import WebhookEndpoint
from eventstore.events import START
from eventstore.temporal import client as delivery_client
from eventstore.web.pagination import commit_cursor_field
from eventstore.web.query_fields import NO_NUL_PATTERN, RangeBound

DELIVERY_LOG_LENGTH = 100


# What Django's URL validator accepts, as the schema states it: http(s), a host name or an IPv4
# address, an optional port and a plain path.
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_LABEL = r"[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?"
URL_PATTERN = (rf"^https?://({_OCTET}(\.{_OCTET}){{3}}|localhost|({_LABEL}\.)+[a-z]{{2,12}})"
               r"(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?"
               r"(/[A-Za-z0-9._~-]*)*$")


@extend_schema_field({"type": "string", "pattern": URL_PATTERN, "maxLength": 2000,
                      "description": "https:// (http:// only where private addresses are allowed)."})
class EndpointUrlField(serializers.RegexField):
    def __init__(self, **kwargs):
        super().__init__(URL_PATTERN.replace("^", r"\A", 1).replace("$", r"\Z"), max_length=2000,
                         error_messages={"invalid": "Give an http(s) URL: host, optional port, path."}, **kwargs)


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": 100, "pattern": NO_NUL_PATTERN})
class EventTypeField(serializers.CharField):
    """An event type's name: text PostgreSQL can hold."""


class WebhookEndpointSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = EndpointUrlField()
    organization_id = serializers.CharField(source="subscription.organization_id", max_length=100, required=False,
                                            allow_blank=True, help_text="Yours; empty: every organization (operators only).")
    event_types = serializers.ListField(source="subscription.event_types", child=EventTypeField(max_length=100),
                                        required=False, max_length=50, help_text="Empty: every event type.")
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    secret = serializers.CharField(read_only=True, help_text="whsec_…: verify each request's webhook-signature with it.")
    paused = serializers.BooleanField(source="subscription.paused", read_only=True)
    events_behind = serializers.SerializerMethodField()
    events_delivered = serializers.IntegerField(source="subscription.events_delivered", read_only=True)
    last_error = serializers.CharField(source="subscription.last_error", read_only=True)

    def get_events_behind(self, endpoint) -> int:
        return subscription_lag.lag_of(endpoint.subscription).events_behind

    def validate_url(self, url: str) -> str:
        try:
            webhooks.check_destination(url)
        except webhooks.RefusedEndpoint as refused:
            raise serializers.ValidationError(str(refused)) from None
        return url


class DeliverySerializer(serializers.Serializer):
    webhook_id = serializers.CharField()
    event_id = serializers.UUIDField()
    position = serializers.IntegerField()
    event_type = serializers.CharField()
    attempted_at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True)
    latency_ms = serializers.FloatField()
    error = serializers.CharField()


class ReplaySerializer(serializers.Serializer):
    after = commit_cursor_field()
    since = RangeBound(required=False, help_text="ISO 8601: deliver again every event recorded from then on.")

    def get_fields(self):
        fields = super().get_fields()
        fields["after"].help_text = "A feed cursor: deliver again every event after it (wins over `since`)."
        return fields


def visible_endpoints(user):
    visible = registry.visible_organizations(user)
    endpoints = WebhookEndpoint.objects.select_related("subscription")
    return endpoints if visible is None else endpoints.filter(subscription__organization_id__in=visible)


def endpoint_of(request, pk: int) -> WebhookEndpoint:
    endpoint = visible_endpoints(request.user).filter(pk=pk).first()
    if endpoint is None:
        raise Http404
    return endpoint


class WebhookListView(APIView):
    @extend_schema(responses=WebhookEndpointSerializer(many=True), summary="Your organizations' webhook endpoints")
    def get(self, request):
        return Response(WebhookEndpointSerializer(visible_endpoints(request.user)[:500], many=True).data)

    @extend_schema(request=WebhookEndpointSerializer, responses={201: WebhookEndpointSerializer},
                   summary="Register a webhook endpoint; its deliveries start at the beginning of the store")
    def post(self, request):
        serializer = WebhookEndpointSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        organization = data.get("subscription", {}).get("organization_id", "")
        visible = registry.visible_organizations(request.user)
        if visible is not None and organization not in visible:
            raise PermissionDenied("Register endpoints for one of your organizations (only operators for all of them).")
        with transaction.atomic():
            endpoint = webhooks.register(url=data["url"], organization_id=organization,
                                         event_types=data.get("subscription", {}).get("event_types", []),
                                         description=data.get("description", ""), created_by=request.user.get_username())
        delivery_client.ensure_delivery(endpoint)
        return Response(WebhookEndpointSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookDetailView(APIView):
    @extend_schema(responses=WebhookEndpointSerializer, summary="One webhook endpoint")
    def get(self, request, pk: int):
        return Response(WebhookEndpointSerializer(endpoint_of(request, pk)).data)

    @extend_schema(responses={204: None}, summary="Remove a webhook endpoint (its deliveries stop)")
    def delete(self, request, pk: int):
        endpoint_of(request, pk).subscription.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookPauseView(APIView):
    paused = True

    @extend_schema(request=None, responses=WebhookEndpointSerializer, summary="Pause or resume deliveries")
    def post(self, request, pk: int):
        endpoint = endpoint_of(request, pk)
        subscriptions.set_paused(endpoint.subscription, self.paused)
        if not self.paused:
            delivery_client.ensure_delivery(endpoint)
        return Response(WebhookEndpointSerializer(endpoint).data)


class WebhookResumeView(WebhookPauseView):
    paused = False


class WebhookReplayView(APIView):
    @extend_schema(request=ReplaySerializer, responses=WebhookEndpointSerializer,
                   summary="Deliver again every event after a feed cursor or from a time; neither: from the start")
    def post(self, request, pk: int):
        endpoint = endpoint_of(request, pk)
        serializer = ReplaySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        if params.get("after"):
            place = commit_place(params["after"])
        elif params.get("since"):
            place = subscriptions.place_before(params["since"])
        else:
            place = START
        subscriptions.rewind(endpoint.subscription, to=place)
        delivery_client.ensure_delivery(endpoint)
        return Response(WebhookEndpointSerializer(endpoint).data)


class WebhookDeliveriesView(APIView):
    @extend_schema(responses=inline_serializer("WebhookDeliveries", {"results": DeliverySerializer(many=True)}),
                   summary=f"The endpoint's delivery log: the latest {DELIVERY_LOG_LENGTH} attempts")
    def get(self, request, pk: int):
        attempts = endpoint_of(request, pk).deliveries.all()[:DELIVERY_LOG_LENGTH]
        return Response({"results": DeliverySerializer(attempts, many=True).data})
