"""Payments in the admin: the read model list, led by the business date in the viewer's time zone,
each payment's history with its state after every event, and time travel; organizations and their
calendar, whose changes are recorded as events. (Correlation timelines are the event store's page.)"""

import contextvars
import functools
import hashlib
import re
from datetime import UTC, timedelta
from typing import NamedTuple

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import _boolean_icon
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from eventstore.events import RecordedEvent
from eventstore.ledger.selectors import LedgerPlace, ledger_places
from eventstore.web.actors import actor_of_request
from eventstore.web.admin_base import CachedValuesFilter, ReadOnlyAdmin, form_rendering_key, when
from eventstore.web.exports import Amount
from payments import admin_commands, approval_policies, calendar, selectors, services, tokens
from payments.domain import CommandRejected, PaymentStatus, canonical_payment_id_if_valid, minor_units
from payments.models import (
    ApiToken,
    Approval,
    ApprovalPolicy,
    Membership,
    Organization,
    PaymentSummary,
    currency_decimals,
    money_label,
    status_label,
)
from payments.search_attributes import temporal_ui_link

REQUEST_PERMISSION = "payments.request_payment_command"
PLACEHOLDER = "ROWPLACEHOLDER"  # stands for a row's id in a URL reversed once for every row


@functools.cache
def _icon(value: bool) -> str:
    return _boolean_icon(value)  # the same two images on every row: their static URLs are made once


class OrganizationFilter(CachedValuesFilter):
    title = gettext_lazy("organization")


class BusinessDateFilter(admin.SimpleListFilter):
    """When the payment was made (its business date), in the viewer's calendar: today, the past 7
    days, this month and last month start at local midnight there."""

    title = gettext_lazy("occurred")
    parameter_name = "occurred"
    PERIODS = (("today", gettext_lazy("Today")), ("past_7_days", gettext_lazy("Past 7 days")),
               ("this_month", gettext_lazy("This month")), ("last_month", gettext_lazy("Last month")))

    def lookups(self, request, model_admin):
        return self.PERIODS

    def queryset(self, request, queryset):
        bounds = period_bounds(self.value(), viewer_calendar(request).zone, timezone.now())
        if bounds is None:
            return queryset
        return queryset.filter(occurred_at__gte=bounds[0], occurred_at__lt=bounds[1])


def period_bounds(period: str | None, zone, now) -> tuple | None:
    """[start, end) of a named period around `now` in `zone`; None for no (or an unknown) period."""
    today = calendar.local_today(zone, now)
    first, last = {
        "today": (today, today),
        "past_7_days": (today - timedelta(days=6), today),
        "this_month": calendar.month_of(today),
        "last_month": calendar.month_of(today.replace(day=1) - timedelta(days=1)),
    }.get(period, (None, None))
    return None if first is None else calendar.local_days(first, last, zone)


def viewer_calendar(request) -> calendar.Calendar:
    """The calendar of the organizations the user sees (kept on the request: the list asks several times)."""
    if not hasattr(request, "_payments_calendar"):
        request._payments_calendar = calendar.calendar_of(selectors.visible_organizations(request.user))
    return request._payments_calendar


_LIST_ZONE: contextvars.ContextVar = contextvars.ContextVar("payments_list_zone", default=UTC)


def local_when(moment, zone) -> str:
    """2026-03-29 03:30:00 CEST: a business time in the viewer's zone."""
    return "" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


@admin.register(PaymentSummary)
class PaymentSummaryAdmin(ReadOnlyAdmin):
    """Finance staff see the payments of their organizations (memberships), operators with
    `payments.view_all_organizations` every payment, as API clients do."""

    list_display = ("payment_id", "occurred_shown", "status_shown", "amount_shown", "refunded_shown",
                    "organization_id", "user_id", "recorded_shown", "complete")
    list_filter = (BusinessDateFilter, "status", ("currency", CachedValuesFilter), ("organization_id", OrganizationFilter),
                   "incomplete")
    search_fields = ("payment_id",)  # the search itself is get_search_results
    search_help_text = gettext_lazy("Part of a payment id (00031 finds payment-demo-00031), an exact user id, or "
                                    "words of the description.")
    ordering = ("-occurred_at", "-payment_id")  # the newest business date first, as the index runs
    quick_rows = True
    csv_fields = ("payment_id", "organization_id", "user_id", "amount", "refunded", "currency", "status",
                  "description", "correlation_id", "occurred_at", "created_at", "updated_at", "version", "incomplete")
    change_form_template = "admin/payments/paymentsummary/change_form.html"

    def changelist_view(self, request, extra_context=None):
        calendar_shown = viewer_calendar(request)
        # the rows are rendered knowing no request: they read the zone from the context, set for this rendering
        token = _LIST_ZONE.set(calendar_shown.zone)
        try:
            response = super().changelist_view(request, {
                **(extra_context or {}), "calendar": calendar_shown,
                "list_note": (_("Occurred: the business date, in %(zone)s. Recorded: when the trail recorded it "
                                "(UTC).") % {"zone": calendar_shown.time_zone} + f" {calendar_shown.note}").strip()})
            return response.render() if hasattr(response, "render") else response
        finally:
            _LIST_ZONE.reset(token)

    @admin.display(description=gettext_lazy("occurred"), ordering="occurred_at")
    def occurred_shown(self, payment):
        return local_when(payment.occurred_at, _LIST_ZONE.get())

    @admin.display(description=gettext_lazy("recorded"), ordering="created_at")
    def recorded_shown(self, payment):
        return when(payment.created_at)

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

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_shown(self, payment):
        return status_label(payment.status)

    @admin.display(description=gettext_lazy("complete"), boolean=True, ordering="incomplete")
    def complete(self, payment):
        """False when an event of the payment was set aside: the row lacks what it changed."""
        return not payment.incomplete

    @admin.display(description=gettext_lazy("amount"), ordering="amount")
    def amount_shown(self, payment):
        return money_label(payment.amount, payment.currency)

    @admin.display(description=gettext_lazy("refunded"), ordering="refunded")
    def refunded_shown(self, payment):
        return money_label(payment.refunded, payment.currency)

    def result_row(self, payment, url: str) -> str:
        """One row of the list, the columns of list_display, in one step (see admin_format)."""
        cells = (escape(url), escape(payment.payment_id), self.occurred_shown(payment), status_label(payment.status),
                 escape(self.amount_shown(payment)), escape(self.refunded_shown(payment)),
                 escape(payment.organization_id), escape(payment.user_id), when(payment.created_at),
                 _icon(not payment.incomplete))
        return ('<th class="field-payment_id"><a href="{}">{}</a></th><td class="field-occurred_shown">{}</td>'
                '<td class="field-status_shown">{}</td>'
                '<td class="field-amount_shown money">{}</td><td class="field-refunded_shown money">{}</td>'
                '<td class="field-organization_id">{}</td><td class="field-user_id">{}</td>'
                '<td class="field-recorded_shown">{}</td><td class="field-complete">{}</td>').format(*cells)

    def csv_row(self, row: dict) -> list:
        """Amounts with the currency's minor units (EUR 2.00, JPY 30230): plain in CSV, number cells in XLSX."""
        shaped = {**row, **{field: Amount(row[field], row["currency"], currency_decimals(row["currency"]))
                            for field in ("amount", "refunded")}}
        return super().csv_row(shaped)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The URL may name the payment in either form of its id; quoted for the admin's URLs, the
        # id's "payment-" prefix reads the same. The payment comes with its organization's time zone and
        # whether any approval names it.
        payment = selectors.with_approvals_flag(calendar.with_time_zone(self.get_queryset(request))).filter(
            payment_id=canonical_payment_id_if_valid(object_id)).first()
        if payment is None or not self.has_view_permission(request, payment):
            raise Http404
        history = selectors.history_with_states(payment.payment_id)
        ledger = ledger_rows(history)
        context = {
            **(extra_context or {}),
            "title": _("Payment %(payment_id)s") % {"payment_id": payment.payment_id},
            "payment": payment,
            "occurred_local": local_when(payment.occurred_at,
                                         calendar.Calendar(payment.organization_time_zone or "UTC").zone),
            "history": history,
            "history_rows": history_rows(history),
            "history_key": f"{len(history)}:{history[-1].event.event_id}" if history else "none",
            "ledger_rows": ledger,
            "ledger_key": ledger_key(ledger),
            "approvals": selectors.payment_approvals(payment.payment_id) if payment.has_approvals else [],
            "as_of": self._as_of(request, payment),
            "temporal_link": temporal_ui_link(settings.TEMPORAL_UI_URL, settings.TEMPORAL_NAMESPACE, payment.payment_id),
        }
        if request.user.has_perm(REQUEST_PERMISSION) and payment.status != PaymentStatus.CANCELLED:
            context["request_form"] = extra_context.get("request_form") if extra_context else None
            context["request_form"] = context["request_form"] or admin_commands.new_request_form()
            context["request_form_key"] = form_rendering_key(context["request_form"],
                                                             leave_out=("key", "csrfmiddlewaretoken"))
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
            "media": forms.Media(), **context,  # none of the admin's scripts: the page has no widget that needs one
        })

    def _as_of(self, request, payment) -> dict:
        """The state-as-of panel: a version, or a business time as known on a recorded time (either
        may be left out), picked by the reader."""
        version, errors = request.GET.get("version", ""), []
        moments = {name: _moment_typed(request.GET.get(name, ""), errors) for name in ("at", "known_at")}
        number = int(version) if version.isdigit() else None
        if version and number is None:
            errors.append(_("%(version)r is not a version number.") % {"version": version})
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
    moment = parse_datetime(text) or _localized_moment(text)
    if moment is None:
        errors.append(_("%(text)r is not a date and time, e.g. 2024-03-31 23:59:59.") % {"text": text})
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    clock = _CLOCK.search(text)
    if clock and not clock.group("fraction"):
        moment += (timedelta(seconds=1) if clock.group("seconds") else timedelta(minutes=1)) - timedelta(microseconds=1)
    return moment


def _localized_moment(text: str):
    """A date and time in the reader's format (31/03/2024 23:59:59 in French), as the history shows it."""
    try:
        return forms.DateTimeField().to_python(text)
    except ValidationError:
        return None


_CLOCK = re.compile(r"[T ]\d{1,2}:\d{2}(?P<seconds>:\d{2}(?P<fraction>[.,]\d+)?)?")
_SHOWN_ZONE = re.compile(r"\s+UTC$", re.IGNORECASE)


def history_rows(history) -> list[tuple]:
    """Each entry of the history with the links its row shows (the event's page, its correlation's
    timeline), each URL reversed once for the page rather than once a row."""
    event_url = reverse("admin:eventstore_event_change", args=[PLACEHOLDER])  # each row puts its position there
    timelines = {}
    rows = []
    for entry in history:
        correlation = entry.event.metadata.get("correlation_id")
        if correlation and correlation not in timelines:
            timelines[correlation] = reverse("admin:timeline", args=[correlation])
        rows.append((entry, event_url.replace(PLACEHOLDER, str(entry.event.position)), timelines.get(correlation, "")))
    return rows


class LedgerRow(NamedTuple):
    """An event of the history in the verifiable ledger, with what its row shows made ready."""

    event: RecordedEvent
    place: LedgerPlace | None  # None until the event has a place in the ledger
    short_hash: str
    head_label: str  # the first signed head that holds it, or that none does yet
    proof_url: str  # "" until a signed head holds it


def ledger_rows(history) -> list[LedgerRow]:
    """Each event of the history with its place in the verifiable ledger: the places in one query,
    each head's label and the proof URL made once for the page."""
    places = ledger_places([entry.event.position for entry in history])
    proof_path = reverse("admin:ledger_proof", args=[0]).removesuffix("0/")  # the URL ends in the position
    labels = {None: _("not signed yet")}
    rows = []
    for entry in history:
        event = entry.event
        place = places.get(event.position)
        head = place.head if place else None
        size = head.tree_size if head else None
        if size not in labels:
            labels[size] = _("%(count)s events, signed %(signed)s") % {"count": size, "signed": when(head.timestamp)}
        rows.append(LedgerRow(event, place, f"{event.hash[:16]}…", labels[size],
                              f"{proof_path}{event.position}/?tree_size={size}" if head else ""))
    return rows


def ledger_key(rows: list[LedgerRow]) -> str:
    """What the ledger table shows depends on: each event's index and head (its rendering is kept under it)."""
    shown = [(row.event.event_id, row.place and row.place.ledger_index, row.place and row.place.head and
              row.place.head.tree_size) for row in rows]
    return hashlib.sha256(repr(shown).encode()).hexdigest()


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """Organizations and their calendar. Users with `payments.change_organization` edit it; each change of
    time zone or reporting currency is recorded as an event naming who made it."""

    list_display = ("id", "name", "time_zone", "reporting_currency")
    search_fields = ("id", "name")

    def get_queryset(self, request):
        organizations = super().get_queryset(request)
        visible = selectors.visible_organizations(request.user)
        return organizations if visible is None else organizations.filter(pk__in=visible)

    def get_readonly_fields(self, request, obj=None):
        return ("id",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        previous = None
        if change:
            before = Organization.objects.filter(pk=obj.pk).values("time_zone", "reporting_currency").first()
            previous = dict(before) if before else None
        services.change_organization_calendar(organization=obj, previous=previous,
                                              actor=actor_of_request(request))


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "created_at")
    list_filter = ("organization",)
    autocomplete_fields = ("organization",)


class ApiTokenForm(forms.ModelForm):
    """A new token: its user (a superuser picks one; anyone else makes their own), organizations among
    the user's, roles and expiry. Checked here so that `issue_api_token` finds nothing to refuse."""

    roles = forms.MultipleChoiceField(label=capfirst(gettext_lazy("roles")), choices=list(tokens.ROLES.items()),
                                      widget=forms.CheckboxSelectMultiple, initial=list(tokens.DEFAULT_ROLES))
    expires_at = forms.DateTimeField(
        initial=tokens.default_expiry, label=capfirst(gettext_lazy("expires at")),
        help_text=gettext_lazy("UTC; by default API_TOKEN_DEFAULT_LIFETIME_DAYS days from now."))

    class Meta:
        model = ApiToken
        fields = ("user", "name", "organizations", "all_organizations", "roles", "expires_at")

    def __init__(self, *args, maker, **kwargs):
        super().__init__(*args, **kwargs)
        self.maker = maker
        if not maker.is_superuser:
            del self.fields["user"]
            open_to = tokens.organizations_open_to(maker)
            if open_to is not None:
                self.fields["organizations"].queryset = Organization.objects.filter(id__in=open_to)

    def clean(self):
        data = super().clean()
        user = data.get("user") or self.maker
        organizations = [organization.id for organization in data.get("organizations") or ()]
        if not organizations and not data.get("all_organizations"):
            raise forms.ValidationError(_("Choose organizations, or every organization of the user."))
        open_to = tokens.organizations_open_to(user)
        if outside := [org for org in organizations if open_to is not None and org not in open_to]:
            self.add_error("organizations", _("%(user)s is no member of %(organizations)s.") % {
                "user": user.get_username(), "organizations": ", ".join(outside)})
        if data.get("expires_at") and data["expires_at"] <= timezone.now():
            self.add_error("expires_at", _("The expiry must lie in the future."))
        return data


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Staff make and revoke their own tokens; superusers anyone's. The key is shown once, on the page
    that follows its making; tokens are revoked, never deleted (events name them)."""

    list_display = ("name", "prefix", "user", "roles_shown", "scope", "created_at", "expires_at", "last_used_at",
                    "state")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "expires_at")
    search_fields = ("name", "prefix", "user__username")
    actions = ["revoke"]
    readonly_fields = ("user", "name", "prefix", "organizations", "all_organizations", "roles", "created_at",
                       "expires_at", "last_used_at", "revoked_at")

    def get_queryset(self, request):
        tokens_ = super().get_queryset(request).select_related("user").prefetch_related("organizations")
        return tokens_ if request.user.is_superuser else tokens_.filter(user=request.user)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and (obj is None or self._own(request, obj))

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)  # revoking is the only change

    def has_delete_permission(self, request, obj=None):
        return False

    @staticmethod
    def _own(request, token) -> bool:
        return request.user.is_superuser or token.user_id == request.user.pk

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)
        return functools.partial(ApiTokenForm, maker=request.user)

    def get_fieldsets(self, request, obj=None):
        if obj is not None:
            return [(None, {"fields": self.readonly_fields})]
        fields = [name for name in ApiTokenForm.Meta.fields if request.user.is_superuser or name != "user"]
        return [(None, {"fields": fields})]

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        issued = tokens.issue_api_token(
            user=data.get("user") or request.user, name=data["name"], roles=data["roles"],
            organization_ids=[organization.id for organization in data["organizations"]],
            all_organizations=data["all_organizations"], expires_at=data["expires_at"])
        obj.pk, obj.prefix, obj.user = issued.token.pk, issued.token.prefix, issued.token.user
        request.issued_api_key = issued.key

    def save_related(self, request, form, formsets, change):
        """The organizations were set by `issue_api_token`."""

    def response_add(self, request, obj, post_url_continue=None):
        """The key, this once: it is stored nowhere, so it cannot be shown again."""
        return TemplateResponse(request, "admin/payments/apitoken/key_created.html", {
            **self.admin_site.each_context(request), "title": _("API token created"), "token": obj,
            "key": request.issued_api_key, "opts": self.opts,
        })

    @admin.action(description=gettext_lazy("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        count = tokens.revoke_api_tokens(queryset)
        self.message_user(request, ngettext(
            "Revoked %(count)d token; it is refused from the next request on.",
            "Revoked %(count)d tokens; they are refused from the next request on.", count) % {"count": count})

    @admin.display(description=gettext_lazy("roles"))
    def roles_shown(self, token):
        return ", ".join(token.roles)

    @admin.display(description=gettext_lazy("organizations"))
    def scope(self, token):
        if token.all_organizations:
            return _("all of the user's")
        return ", ".join(organization.id for organization in token.organizations.all())

    @admin.display(description=gettext_lazy("state"))
    def state(self, token):
        if token.revoked_at:
            return _("revoked")
        return _("expired") if token.expires_at <= timezone.now() else _("live")


@admin.register(Approval)
class ApprovalAdmin(admin.ModelAdmin):
    """The approvals queue: waiting for me, requested by me, decided; approve and reject in place."""

    change_list_template = "admin/payments/approval/queue.html"
    VIEWS = (("waiting_for_me", gettext_lazy("Waiting for me")), ("requested_by_me", gettext_lazy("Requested by me")),
             ("decided", gettext_lazy("Decided")))

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
            **self.admin_site.each_context(request), "opts": self.opts, "title": _("Approvals"),
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
            self.add_error("currency", _("A threshold is an amount in a currency: name the currency."))
        if threshold is not None and threshold <= 0:
            self.add_error("threshold", _("The threshold must be greater than zero; leave it empty for always."))
        return data


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(admin.ModelAdmin):
    """Each organization's four-eyes policy, edited by holders of its own permissions; every change is
    recorded as an event of the organization's ApprovalPolicy stream, with its editor."""

    form = ApprovalRuleForm
    list_display = ("organization", "command_type", "currency_shown", "threshold_shown")
    list_filter = ("command_type", "organization")
    actions = None  # a bulk delete would change the policy without recording each change

    @admin.display(description=gettext_lazy("currency"))
    def currency_shown(self, rule):
        return rule.currency or _("any")

    @admin.display(description=gettext_lazy("from"))
    def threshold_shown(self, rule):
        return _("always") if rule.threshold is None else money_label(rule.threshold, rule.currency)

    def save_model(self, request, obj, form, change):
        approval_policies.save_rule(rule=obj, actor=actor_of_request(request))

    def delete_model(self, request, obj):
        approval_policies.remove_rule(rule=obj, actor=actor_of_request(request))


from payments.reconciliation import admin as reconciliation_admin  # noqa: E402,F401  (registers its pages)
