"""Template filters for the finance pages: money with its currency's minor units and thousands
separators, readable statuses (counts and moments: `admin_format`). `{% load finance %}`."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.html import format_html

from payments import selectors
from payments.models import money_label, status_label
from payments.reconciliation import finding_texts

register = template.Library()


@register.filter
def money(amount, currency: str) -> str:
    """1,234.50 EUR or 1 234,50 € (the reader's language); 30,230 JPY; an empty string for no amount."""
    if amount is None or amount == "":
        return ""
    try:
        return money_label(Decimal(str(amount)), currency)
    except InvalidOperation:
        return f"{amount} {currency}"


@register.filter
def money_cell(amount, currency: str):
    """The amount as a right-aligned, unbroken table figure."""
    return format_html('<span class="money">{}</span>', money(amount, currency))


@register.filter
def status(value: str) -> str:
    """PARTIALLY_REFUNDED reads "Partially refunded"."""
    return status_label(value) if value else ""


@register.filter
def finding_message(finding) -> str:
    """A reconciliation finding's message in the reader's language and number format."""
    return finding_texts.finding_message(finding)


@register.filter
def settlement_kind(kind: str) -> str:
    """charge, refund, chargeback, fee or cancel in the reader's language."""
    return finding_texts.kind_label(kind)


@register.simple_tag
def approvals_waiting_for(user) -> int:
    """How many refunds and cancels wait for this user's decision."""
    return selectors.waiting_for(user)
