"""Payments in the admin: the read model list, each payment's history with its state after every
event, and time travel. (Correlation timelines are the event store's page.)"""

import functools
import re
from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import _boolean_icon
from django.db.models import Q
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape

from eventstore.ledger.selectors import ledger_places
from eventstore.web.admin_base import CachedValuesFilter, ReadOnlyAdmin, when
from payments import selectors
from payments.domain import canonical_payment_id_if_valid
from payments.models import Membership, Organization, PaymentSummary, money_text, status_label
from payments.search_attributes import temporal_ui_link


@functools.cache
def _icon(value: bool) -> str:
    return _boolean_icon(value)  # the same two images on every row: their static URLs are made once


class OrganizationFilter(CachedValuesFilter):
    title = "organization"


@admin.register(PaymentSummary)
class PaymentSummaryAdmin(ReadOnlyAdmin):
    """Finance staff see the payments of their organizations (memberships), operators with
    `payments.view_all_organizations` every payment, as API clients do."""

    list_display = ("payment_id", "status_shown", "amount_shown", "refunded_shown", "organization_id", "user_id",
                    "created_at", "complete")
    list_filter = ("status", ("currency", CachedValuesFilter), ("organization_id", OrganizationFilter),
                   ("created_at", admin.DateFieldListFilter), "incomplete")
    search_fields = ("payment_id",)  # the search itself is get_search_results
    search_help_text = ("Part of a payment id (00031 finds payment-demo-00031), an exact user id, or words of "
                        "the description.")
    ordering = ("-created_at",)
    quick_rows = True
    csv_fields = ("payment_id", "organization_id", "user_id", "amount", "refunded", "currency", "status",
                  "description", "correlation_id", "created_at", "updated_at", "version", "incomplete")
    change_form_template = "admin/payments/paymentsummary/change_form.html"

    def get_queryset(self, request):
        return selectors.payment_summaries(selectors.visible_organizations(request.user))

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        # payment_id and description have trigram indexes (migration 0007), which serve case-blind
        # regular expressions: a part of either is found without reading the table
        part = re.escape(term)
        return queryset.filter(Q(payment_id__iregex=part) | Q(user_id=term) | Q(description__iregex=part)), False

    @admin.display(description="status", ordering="status")
    def status_shown(self, payment):
        return status_label(payment.status)

    @admin.display(description="complete", boolean=True, ordering="incomplete")
    def complete(self, payment):
        """False when an event of the payment was set aside: the row lacks what it changed."""
        return not payment.incomplete

    @admin.display(description="amount", ordering="amount")
    def amount_shown(self, payment):
        return f"{payment.amount_text} {payment.currency}"

    @admin.display(description="refunded", ordering="refunded")
    def refunded_shown(self, payment):
        return f"{payment.refunded_text} {payment.currency}"

    def result_row(self, payment, url: str) -> str:
        """One row of the list, the columns of list_display, in one step (see admin_format)."""
        cells = (escape(url), escape(payment.payment_id), status_label(payment.status),
                 escape(self.amount_shown(payment)), escape(self.refunded_shown(payment)),
                 escape(payment.organization_id), escape(payment.user_id), when(payment.created_at),
                 _icon(not payment.incomplete))
        return ('<th class="field-payment_id"><a href="{}">{}</a></th><td class="field-status_shown">{}</td>'
                '<td class="field-amount_shown money">{}</td><td class="field-refunded_shown money">{}</td>'
                '<td class="field-organization_id">{}</td><td class="field-user_id">{}</td>'
                '<td class="field-created_at">{}</td><td class="field-complete">{}</td>').format(*cells)

    def csv_row(self, row: dict) -> list[str]:
        """Amounts with the currency's minor units (EUR 2.00, JPY 30230), no thousands separators."""
        shaped = {**row, **{field: money_text(row[field], row["currency"], separators=False)
                            for field in ("amount", "refunded")}}
        return super().csv_row(shaped)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The URL may name the payment in either form of its id; quoted for the admin's URLs, the
        # id's "payment-" prefix reads the same.
        payment = self.get_object(request, canonical_payment_id_if_valid(object_id))
        if payment is None or not self.has_view_permission(request, payment):
            raise Http404
        history = selectors.history_with_states(payment.payment_id)
        context = {
            **(extra_context or {}),
            "title": f"Payment {payment.payment_id}",
            "payment": payment,
            "history": history,
            "history_key": f"{len(history)}:{history[-1].event.event_id}" if history else "none",
            "as_of": self._as_of(request, payment),
            "temporal_link": temporal_ui_link(settings.TEMPORAL_UI_URL, settings.TEMPORAL_NAMESPACE, payment.payment_id),
        }
        context["ledger_rows"] = ledger_rows(context["history"])
        return self._payment_page(request, payment, context)

    def _payment_page(self, request, payment, context: dict) -> TemplateResponse:
        """The payment's page without the change form Django would build (and never show: it is read-only)."""
        return TemplateResponse(request, self.change_form_template, {
            **self.admin_site.each_context(request),
            "opts": self.opts, "app_label": self.opts.app_label, "original": payment, "change": True, "add": False,
            "is_popup": False, "save_as": False, "has_view_permission": True, "has_add_permission": False,
            "has_change_permission": False, "has_delete_permission": False, "has_absolute_url": False,
            "media": self.media, **context,
        })

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
    """A date and time as the reader typed it (naive or "UTC": the current time zone, UTC) to the microsecond;
    a time given to the second or minute means the end of it, so the exact time the history shows
    includes the event recorded then (stored with microseconds)."""
    text = _SHOWN_ZONE.sub("", text.strip())  # "2026-11-26 11:55:55 UTC", as the history shows it
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
_SHOWN_ZONE = re.compile(r"\s+UTC$", re.IGNORECASE)


def ledger_rows(history) -> list[tuple]:
    """Each event of the history with its place in the verifiable ledger (None until it has one)."""
    places = ledger_places([entry.event.position for entry in history])
    return [(entry.event, places.get(entry.event.position)) for entry in history]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("id", "name")
    search_fields = ("id", "name")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "created_at")
    list_filter = ("organization",)
    autocomplete_fields = ("organization",)


from payments.reconciliation import admin as reconciliation_admin  # noqa: E402,F401  (registers its pages)
