"""Admin formatting shared by every app's pages (`{% load admin_format %}`): counts with thousands
separators, moments with their time zone (both the reader's way), and `{% quick_result_list cl %}`, the changelist table with
each row rendered in one step by the model admin's `result_row(obj, row_url)` (when it sets
`quick_rows`), instead of Django's cell-by-cell rendering, which is most of a big list's time."""

from django import template
from django.contrib.admin.templatetags.admin_list import result_headers
from django.contrib.admin.utils import quote
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from eventstore.web.actors import described
from eventstore.web.admin_base import when
from eventstore.web.localized import count_text

register = template.Library()

PLACEHOLDER = "ROWPLACEHOLDER"  # letters only: admin quote() leaves it as it is


@register.filter
def number(value):
    """A count with the reader's thousands separators: 1,106,107 or 1 106 107."""
    return count_text(value) if isinstance(value, int) and not isinstance(value, bool) else value


@register.filter
def who(metadata) -> str:
    """The actor an event's metadata names: who, and below it how (kind, channel, credential)."""
    name, how = described((metadata or {}).get("actor") if isinstance(metadata, dict) else None)
    return format_html("{}<br><small>{}</small>", name, how) if how else name


@register.filter(name="when")
def when_filter(moment) -> str:
    """2026-11-26 11:55:55 UTC."""
    return when(moment)


@register.inclusion_tag("admin/change_list_results.html")
def quick_result_list(cl):
    headers = list(result_headers(cl))
    url_pattern = cl.url_for_result(_Placeholder(cl.model._meta.pk.attname))
    rows = [[mark_safe(cl.model_admin.result_row(obj, url_pattern.replace(PLACEHOLDER, quote(obj.pk))))]
            for obj in cl.result_list]
    return {
        "cl": cl,
        "result_hidden_fields": [],
        "result_headers": headers,
        "num_sorted_fields": sum(1 for header in headers if header["sortable"] and header["sort_priority"] > 0),
        "results": rows,
    }


class _Placeholder:
    """Stands for a row in `url_for_result`, so its URL is reversed once for the whole page."""

    def __init__(self, attname: str):
        setattr(self, attname, PLACEHOLDER)
        self.pk = PLACEHOLDER
