"""Erasing personal data from the admin, for users with `eventstore.erase_personal_data` only: the action
"Erase personal data" of the streams list (each stream is the data subject of its events' personal
fields), which asks for the legal basis and the reason, then erases (`eventstore.erasure`); and the
list of erasures made, the `PersonalDataErased` events themselves."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from eventstore.erasure import DEFAULT_LEGAL_BASIS, MAX_TEXT, ErasureRefused, erase_personal_data
from eventstore.models import PersonalDataErasure
from eventstore.personal_data import subject_of
from eventstore.web.actors import actor_of_request
from eventstore.web.admin_base import ReadOnlyAdmin

PERMISSION = "eventstore.erase_personal_data"


class ErasureForm(forms.Form):
    legal_basis = forms.CharField(max_length=MAX_TEXT, initial=DEFAULT_LEGAL_BASIS,
                                  label=_("Legal basis"),
                                  help_text=_("The ground of the erasure, e.g. GDPR Art. 17(1)(a)."))
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 80}), max_length=MAX_TEXT,
                             label=_("Reason"),
                             help_text=_("Why, e.g. the request's reference; recorded with the erasure."))


def erase_selected_streams(model_admin, request, queryset):
    """Asks for the legal basis and the reason, then erases the personal data of each selected stream."""
    streams = list(queryset.order_by("stream_id")[:100])
    form = ErasureForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        for stream in streams:
            subject = subject_of(stream.aggregate_type, stream.stream_id)
            try:
                erase_personal_data(subject=subject, reason=form.cleaned_data["reason"],
                                    legal_basis=form.cleaned_data["legal_basis"], actor=actor_of_request(request))
            except ErasureRefused as refused:
                model_admin.message_user(request, str(refused), messages.ERROR)
                continue
            erased = gettext("Erased the personal data of %(subject)s.") % {"subject": subject}
            model_admin.message_user(request, erased, messages.SUCCESS)
        return None
    context = {
        **model_admin.admin_site.each_context(request),
        "title": gettext("Erase personal data"),
        "opts": model_admin.model._meta,
        "streams": streams,
        "form": form,
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/eventstore/erase_personal_data.html", context)


@admin.register(PersonalDataErasure)
class PersonalDataErasureAdmin(ReadOnlyAdmin):
    list_display = ("recorded_at", "subject", "erased_by", "channel", "legal_basis", "reason")
    list_filter = (("recorded_at", admin.DateFieldListFilter),)
    search_fields = ("=stream_id",)
    search_help_text = _("An erasure's stream id (data-subject-<subject>).")
    ordering = ("-position",)
    csv_fields = ("position", "event_id", "stream_id", "recorded_at", "data", "metadata", "hash")
    fields = ("position", "stream_id", "recorded_at", "subject", "erased_by", "channel", "legal_basis", "reason",
              "hash")
    readonly_fields = fields

    @admin.display(description=_("subject"))
    def subject(self, erasure):
        return erasure.data.get("subject", "")

    @admin.display(description=_("by"))
    def erased_by(self, erasure):
        actor = erasure.metadata.get("actor") or {}
        return actor.get("name") or actor.get("id", "")

    @admin.display(description=_("channel"))
    def channel(self, erasure):
        return (erasure.metadata.get("actor") or {}).get("channel", "")

    @admin.display(description=_("legal basis"))
    def legal_basis(self, erasure):
        return erasure.data.get("legal_basis", "")

    @admin.display(description=_("reason"))
    def reason(self, erasure):
        return erasure.data.get("reason", "")
