"""Projection checkpoints, errors and set-aside events. One action changes anything, and only for
users with its permission: setting aside the event a projection is stopped at
(`eventstore.projections.set_aside`)."""


from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from eventstore.admin.events import of_visible_streams
from eventstore.projections.models import (
    ProjectionCheckpoint,
    ProjectionError,
    SetAsideEvent,
)
from eventstore.projections.set_aside import PERMISSION, SetAsideRefused, set_aside
from eventstore.web.admin_base import ReadOnlyAdmin


@admin.register(ProjectionCheckpoint)
class ProjectionCheckpointAdmin(ReadOnlyAdmin):
    list_display = ("name", "position", "events_applied", "last_recorded_at", "failing_position", "updated_at")
    csv_fields = ("name", "transaction_id", "position", "events_applied", "failing_position", "updated_at")


class SetAsideForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 80}), max_length=2000,
                             label=gettext_lazy("Reason"),
                             help_text=gettext_lazy("Why the projection may pass over these events; kept with them."))


@admin.register(ProjectionError)
class ProjectionErrorAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "projection", "stream_id", "event_type", "position", "attempts", "resolved_at", "message")
    list_filter = ("projection", ("resolved_at", admin.EmptyFieldListFilter))
    csv_fields = ("occurred_at", "projection", "position", "event_id", "stream_id", "event_type", "message",
                  "attempts", "resolved_at")
    actions = ["set_aside_events"]

    def get_queryset(self, request):
        return of_visible_streams(request, super().get_queryset(request))

    def has_set_aside_permission(self, request) -> bool:
        return request.user.has_perm(PERMISSION)

    @admin.action(permissions=["set_aside"], description=gettext_lazy("Set aside the event (its projection passes over it)"))
    def set_aside_events(self, request, queryset):
        """Asks why, then sets aside each selected error's event for its projection."""
        errors = list(queryset.filter(resolved_at__isnull=True).order_by("projection", "position"))
        form = SetAsideForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for error in errors:
                try:
                    record, outcome = set_aside(projection=error.projection, position=error.position,
                                                reason=form.cleaned_data["reason"], user=request.user)
                except SetAsideRefused as refused:
                    self.message_user(request, str(refused), messages.ERROR)
                    continue
                self.message_user(request, _("Set aside %(record)s by %(user)s; the projection then applied "
                                             "%(applied)s events.") % {"record": record, "user": record.set_aside_by,
                                                                       "applied": outcome.applied}, messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Set aside events that a projection cannot apply"),
            "opts": self.model._meta,
            "errors": errors,
            "form": form,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/eventstore/set_aside.html", context)


@admin.register(SetAsideEvent)
class SetAsideEventAdmin(ReadOnlyAdmin):
    list_display = ("set_aside_at", "projection", "stream_id", "version", "event_type", "position", "set_aside_by",
                    "reason")
    list_filter = ("projection",)
    search_fields = ("=stream_id",)
    csv_fields = ("set_aside_at", "projection", "position", "event_id", "stream_id", "version", "event_type",
                  "set_aside_by", "reason", "error")

    def get_queryset(self, request):
        return of_visible_streams(request, super().get_queryset(request))
