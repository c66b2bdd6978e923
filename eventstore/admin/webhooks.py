"""Webhook endpoints in the admin: operators register them (a URL, an organization, event types),
pause, resume and replay them, and read the delivery log. Unlike history, endpoints are
configuration: they may be added, changed and deleted by users with those permissions."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from eventstore.delivery import lag as subscription_lag
from eventstore.delivery import subscriptions, webhooks
from eventstore.delivery.models import Subscription, WebhookDelivery, WebhookEndpoint
from eventstore.temporal import client as delivery_client
from eventstore.web.admin_base import ReadOnlyAdmin

RECENT_DELIVERIES = 20


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https", label=gettext_lazy("URL"),
                         help_text=gettext_lazy("Where each event is POSTed."))
    organization_id = forms.CharField(
        required=False, max_length=100, label=gettext_lazy("Organization id"),
        help_text=gettext_lazy("Only this organization's events (metadata organization_id); empty: all."))
    event_types = forms.CharField(
        required=False, max_length=2000, label=gettext_lazy("Event types"),
        help_text=gettext_lazy("Comma-separated, e.g. PaymentProcessed, PaymentRefunded; empty: every type."))

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "description")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["organization_id"].initial = self.instance.subscription.organization_id
            self.fields["event_types"].initial = ", ".join(self.instance.subscription.event_types)

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            webhooks.check_destination(url)
        except webhooks.RefusedEndpoint as refused:
            raise forms.ValidationError(str(refused)) from None
        return url

    def clean_event_types(self):
        return sorted({part.strip() for part in self.cleaned_data["event_types"].split(",") if part.strip()})


class ReplayActionForm(helpers.ActionForm):
    replay_from = forms.CharField(required=False, label=gettext_lazy("Replay from"),
                                  help_text=gettext_lazy(
                                      "For “Replay”: an ISO 8601 time or a feed cursor; empty: the start."))


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    action_form = ReplayActionForm
    list_display = ("url", "organization", "event_types", "state", "events_behind", "seconds_behind",
                    "delivered", "last_error")
    readonly_fields = ("secret", "created_by", "state", "recent_deliveries")
    actions = ["pause", "resume", "replay"]

    def get_fields(self, request, obj=None):
        fields = ["url", "organization_id", "event_types", "description"]
        return fields if obj is None else [*fields, "secret", "created_by", "state", "recent_deliveries"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("subscription")

    @admin.display(description=gettext_lazy("organization"))
    def organization(self, endpoint):
        return endpoint.subscription.organization_id or _("all")

    @admin.display(description=gettext_lazy("event types"))
    def event_types(self, endpoint):
        return ", ".join(endpoint.subscription.event_types) or _("all")

    @admin.display(description=gettext_lazy("state"))
    def state(self, endpoint):
        if endpoint.subscription.paused:
            return _("paused")
        return _("failing") if endpoint.subscription.last_error else _("delivering")

    @admin.display(description=gettext_lazy("events behind"))
    def events_behind(self, endpoint):
        return subscription_lag.lag_of(endpoint.subscription).events_behind

    @admin.display(description=gettext_lazy("seconds behind"))
    def seconds_behind(self, endpoint):
        return f"{subscription_lag.lag_of(endpoint.subscription).seconds_behind:.1f}"

    @admin.display(description=gettext_lazy("delivered"))
    def delivered(self, endpoint):
        return endpoint.subscription.events_delivered

    @admin.display(description=gettext_lazy("last error"))
    def last_error(self, endpoint):
        return endpoint.subscription.last_error[:120]

    @admin.display(description=gettext_lazy("recent deliveries"))
    def recent_deliveries(self, endpoint):
        attempts = endpoint.deliveries.all()[:RECENT_DELIVERIES]
        log = reverse("admin:eventstore_webhookdelivery_changelist") + f"?endpoint__id__exact={endpoint.pk}"
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} ms</td><td>{}</td></tr>", (
            (f"{attempt.attempted_at:%Y-%m-%d %H:%M:%S}", attempt.event_type, attempt.position,
             attempt.status_code or "—", f"{attempt.latency_ms:.0f}", attempt.error[:120]) for attempt in attempts))
        headings = format_html_join("", "<th>{}</th>", ((heading,) for heading in (
            _("attempted"), _("event"), _("position"), _("status"), _("latency"), _("error"))))
        return format_html('<table><tr>{}</tr>{}</table><a href="{}">{}</a>', headings, rows, log,
                           _("The whole delivery log"))

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            if change:
                Subscription.objects.filter(pk=obj.subscription_id).update(
                    organization_id=form.cleaned_data["organization_id"], event_types=form.cleaned_data["event_types"])
            else:
                obj.subscription = webhooks.new_subscription(organization_id=form.cleaned_data["organization_id"],
                                                             event_types=form.cleaned_data["event_types"])
                obj.secret, obj.created_by = webhooks.new_secret(), request.user.get_username()
            obj.save()
        if not delivery_client.ensure_delivery(obj):
            self.message_user(request, _("Temporal is unreachable: deliveries start with the next worker."),
                              messages.WARNING)

    @admin.action(permissions=["change"], description=gettext_lazy("Pause deliveries"))
    def pause(self, request, queryset):
        for endpoint in queryset:
            subscriptions.set_paused(endpoint.subscription, True)
        self.message_user(request, _("Paused %(count)s endpoints.") % {"count": queryset.count()}, messages.SUCCESS)

    @admin.action(permissions=["change"], description=gettext_lazy("Resume deliveries"))
    def resume(self, request, queryset):
        for endpoint in queryset:
            subscriptions.set_paused(endpoint.subscription, False)
            delivery_client.ensure_delivery(endpoint)
        self.message_user(request, _("Resumed %(count)s endpoints.") % {"count": queryset.count()}, messages.SUCCESS)

    @admin.action(permissions=["change"], description=gettext_lazy("Replay (from the time or cursor given)"))
    def replay(self, request, queryset):
        try:
            place = subscriptions.replay_point(request.POST.get("replay_from", ""))
        except ValueError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        for endpoint in queryset:
            subscriptions.rewind(endpoint.subscription, to=place)
            delivery_client.ensure_delivery(endpoint)
        self.message_user(request, _("%(count)s endpoints deliver again from position %(position)s.") % {
            "count": queryset.count(), "position": place.position}, messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("attempted_at", "endpoint", "event_type", "position", "status_code", "latency", "webhook_id", "error")
    list_filter = ("endpoint", "status_code")
    search_fields = ("=webhook_id", "=event_id")
    csv_fields = ("attempted_at", "endpoint__url", "webhook_id", "event_id", "position", "event_type", "status_code",
                  "latency_ms", "error")

    @admin.display(description=gettext_lazy("latency"))
    def latency(self, attempt):
        return f"{attempt.latency_ms:.0f} ms"


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("name", "organization_id", "paused", "position", "events_delivered", "last_delivered_at", "last_error")
    csv_fields = ("name", "organization_id", "paused", "transaction_id", "position", "events_delivered",
                  "last_delivered_at", "last_error")
