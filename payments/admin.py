"""Payments in the admin: the read model list, each payment's history with its state after every
event, and time travel. (Correlation timelines are the event store's page.)"""

from django.conf import settings
from django.contrib import admin
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from eventstore.admin_base import CachedValuesFilter, ReadOnlyAdmin
from payments import selectors
from payments.models import Membership, Organization, PaymentSummary
from payments.search_attributes import temporal_ui_link


@admin.register(PaymentSummary)
class PaymentSummaryAdmin(ReadOnlyAdmin):
    list_display = ("payment_id", "status", "amount_shown", "refunded_shown", "currency", "organization_id",
                    "user_id", "created_at", "updated_at", "complete")
    list_filter = ("status", ("currency", CachedValuesFilter), ("organization_id", CachedValuesFilter),
                   ("created_at", admin.DateFieldListFilter), "incomplete")
    search_fields = ("=payment_id", "=user_id", "description")
    search_help_text = "An exact payment id or user id, or words of the description."
    ordering = ("-created_at",)
    csv_fields = ("payment_id", "organization_id", "user_id", "amount", "refunded", "currency", "status",
                  "description", "correlation_id", "created_at", "updated_at", "version", "incomplete")
    change_form_template = "admin/payments/paymentsummary/change_form.html"

    @admin.display(description="complete", boolean=True, ordering="incomplete")
    def complete(self, payment):
        """False when an event of the payment was set aside: the row lacks what it changed."""
        return not payment.incomplete

    @admin.display(description="amount", ordering="amount")
    def amount_shown(self, payment):
        return payment.amount_text

    @admin.display(description="refunded", ordering="refunded")
    def refunded_shown(self, payment):
        return payment.refunded_text

    def change_view(self, request, object_id, form_url="", extra_context=None):
        payment = self.get_object(request, object_id)
        if payment is None or not self.has_view_permission(request, payment):
            raise Http404
        context = {
            **(extra_context or {}),
            "payment": payment,
            "history": selectors.history_with_states(payment.payment_id),
            "as_of": self._as_of(request, payment),
            "temporal_link": temporal_ui_link(settings.TEMPORAL_UI_URL, settings.TEMPORAL_NAMESPACE, payment.payment_id),
        }
        return super().change_view(request, object_id, form_url, context)

    def _as_of(self, request, payment) -> dict:
        """The state-as-of panel: a version or a date and time picked by the reader."""
        version, at, error = request.GET.get("version"), request.GET.get("at"), ""
        moment = None
        if at:
            moment = parse_datetime(at)
            if moment is None:
                error = f"{at!r} is not a date and time."
            elif timezone.is_naive(moment):
                moment = timezone.make_aware(moment, timezone.get_current_timezone())
        number = int(version) if version and version.isdigit() else None
        if version and number is None:
            error = f"{version!r} is not a version number."
        if error or (number is None and moment is None):
            return {"error": error, "version": version or "", "at": at or ""}
        state = selectors.payment_state_as_of(payment.payment_id, version=number, at=moment)
        return {"state": state, "version": version or "", "at": at or "", "asked": True}


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("id", "name")
    search_fields = ("id", "name")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "created_at")
    list_filter = ("organization",)
    autocomplete_fields = ("organization",)
