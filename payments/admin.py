"""Payments in the admin: the read model list, each payment's history with its state after every
event, and time travel. (Correlation timelines are the event store's page.)"""

import re
from datetime import timedelta

from django.contrib import admin
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from eventstore.admin_base import CachedValuesFilter, ReadOnlyAdmin
from payments import selectors
from payments.models import Membership, Organization, PaymentSummary


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
        }
        return super().change_view(request, object_id, form_url, context)

    def _as_of(self, request, payment) -> dict:
        """The state-as-of panel: a version, or a business time as known on a recorded time (either
        may be left out), picked by the reader."""
        version, errors = request.GET.get("version", ""), []
        moments = {name: _moment_typed(request.GET.get(name, ""), errors) for name in ("at", "known_at")}
        number = int(version) if version.isdigit() else None
        if version and number is None:
            errors.append(f"{version!r} is not a version number.")
        typed = {"version": version, "at": request.GET.get("at", ""), "known_at": request.GET.get("known_at", "")}
        if errors or (number is None and not any(moments.values())):
            return {"error": " ".join(errors), **typed}
        state = selectors.payment_state_as_of(payment.payment_id, version=number, **moments)
        return {"state": state, **typed, "asked": True}


def _moment_typed(text: str, errors: list[str]):
    """A date and time as the reader typed it (naive: the current time zone) to the microsecond;
    a time given to the second or minute means the end of it, so the exact time the history shows
    includes the event recorded then (stored with microseconds)."""
    text = text.strip()
    if not text:
        return None
    moment = parse_datetime(text)
    if moment is None:
        errors.append(f"{text!r} is not a date and time, e.g. 2024-03-31 23:59:59.")
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    clock = _CLOCK.search(text)
    if clock and not clock.group("fraction"):
        moment += (timedelta(seconds=1) if clock.group("seconds") else timedelta(minutes=1)) - timedelta(microseconds=1)
    return moment


_CLOCK = re.compile(r"[T ]\d{1,2}:\d{2}(?P<seconds>:\d{2}(?P<fraction>[.,]\d+)?)?")


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("id", "name")
    search_fields = ("id", "name")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "created_at")
    list_filter = ("organization",)
    autocomplete_fields = ("organization",)
