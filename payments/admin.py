"""Payments in the admin: the read model list, each payment's history with its state after every
event, and time travel. (Correlation timelines are the event store's page.)"""

import functools
import re
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import _boolean_icon
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape

from eventstore.ledger.selectors import ledger_places
from eventstore.web.actors import actor_of_request
from eventstore.web.admin_base import CachedValuesFilter, ReadOnlyAdmin, when
from payments import admin_commands, approval_policies, selectors
from payments.domain import CommandRejected, PaymentStatus, canonical_payment_id_if_valid, minor_units
from payments.models import (
    Approval,
    ApprovalPolicy,
    Membership,
    Organization,
    PaymentSummary,
    money_text,
    status_label,
)

REQUEST_PERMISSION = "payments.request_payment_command"
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
        context["approvals"] = selectors.payment_approvals(payment.payment_id)
        if request.user.has_perm(REQUEST_PERMISSION) and payment.status != PaymentStatus.CANCELLED:
            context["request_form"] = extra_context.get("request_form") if extra_context else None
            context["request_form"] = context["request_form"] or admin_commands.new_request_form()
        return self._payment_page(request, payment, context)

    def get_urls(self):
        return [path("<path:object_id>/request/", self.admin_site.admin_view(self.request_view),
                     name="payments_paymentsummary_request"), *super().get_urls()]

    def request_view(self, request, object_id):
        """POST of the payment page's form: a refund or cancel, as the signed-in user."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:payments_paymentsummary_change", args=[object_id]))
        payment = self.get_object(request, canonical_payment_id_if_valid(object_id))
        if payment is None or not self.has_view_permission(request, payment):
            raise Http404
        if not request.user.has_perm(REQUEST_PERMISSION):
            raise PermissionDenied
        form = admin_commands.PaymentRequestForm(request.POST)
        if not form.is_valid():
            return self.change_view(request, object_id, extra_context={"request_form": form})
        admin_commands.request_command(request, payment, form)
        return HttpResponseRedirect(reverse("admin:payments_paymentsummary_change", args=[payment.payment_id]))

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


@admin.register(Approval)
class ApprovalAdmin(admin.ModelAdmin):
    """The approvals queue: waiting for me, requested by me, decided; approve and reject in place."""

    change_list_template = "admin/payments/approval/queue.html"
    VIEWS = (("waiting_for_me", "Waiting for me"), ("requested_by_me", "Requested by me"), ("decided", "Decided"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [path("<str:approval_id>/decide/", self.admin_site.admin_view(self.decide_view),
                     name="payments_approval_decide"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        view = request.GET.get("view", "waiting_for_me")
        view = view if view in dict(self.VIEWS) else "waiting_for_me"
        return TemplateResponse(request, self.change_list_template, {
            **self.admin_site.each_context(request), "opts": self.opts, "title": "Approvals",
            "views": [(key, label, selectors.approvals(request.user, key).count()) for key, label in self.VIEWS],
            "view": view, "rows": selectors.approvals(request.user, view)[:200],
            "may_decide": request.user.has_perm(selectors.APPROVE_PERMISSION),
        })

    def change_view(self, request, object_id, form_url="", extra_context=None):
        approval = selectors.visible_approval(request.user, object_id)
        if approval is None:
            raise Http404
        return HttpResponseRedirect(reverse("admin:payments_paymentsummary_change", args=[approval.payment_id]))

    def decide_view(self, request, approval_id):
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:payments_approval_changelist"))
        if not request.user.has_perm(selectors.APPROVE_PERMISSION):
            raise PermissionDenied
        approval = selectors.visible_approval(request.user, approval_id)
        if approval is None:
            raise Http404
        decision = request.POST.get("decision", "")
        if decision not in ("approve", "reject"):
            raise PermissionDenied
        admin_commands.decide(request, approval, decision, request.POST.get("reason", ""))
        return HttpResponseRedirect(reverse("admin:payments_approval_changelist") + "?view=decided")


class ApprovalRuleForm(forms.ModelForm):
    class Meta:
        model = ApprovalPolicy
        fields = ["organization", "command_type", "currency", "threshold"]

    def clean_currency(self):
        currency = self.cleaned_data["currency"].upper()
        if currency:
            try:
                minor_units(currency)
            except CommandRejected as rejection:
                raise forms.ValidationError(str(rejection)) from None
        return currency

    def clean(self):
        data = super().clean()
        threshold = data.get("threshold")
        if threshold is not None and not data.get("currency"):
            self.add_error("currency", "A threshold is an amount in a currency: name the currency.")
        if threshold is not None and threshold <= 0:
            self.add_error("threshold", "The threshold must be greater than zero; leave it empty for always.")
        return data


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(admin.ModelAdmin):
    """Each organization's four-eyes policy, edited by holders of its own permissions; every change is
    recorded as an event of the organization's ApprovalPolicy stream, with its editor."""

    form = ApprovalRuleForm
    list_display = ("organization", "command_type", "currency_shown", "threshold_shown")
    list_filter = ("command_type", "organization")
    actions = None  # a bulk delete would change the policy without recording each change

    @admin.display(description="currency")
    def currency_shown(self, rule):
        return rule.currency or "any"

    @admin.display(description="from")
    def threshold_shown(self, rule):
        return "always" if rule.threshold is None else f"{money_text(rule.threshold, rule.currency)} {rule.currency}"

    def save_model(self, request, obj, form, change):
        approval_policies.save_rule(rule=obj, actor=actor_of_request(request))

    def delete_model(self, request, obj):
        approval_policies.remove_rule(rule=obj, actor=actor_of_request(request))
