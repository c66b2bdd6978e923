"""Reconciliation's messages in the reader's language: the template of a code translated, amounts,
numbers and dates written the reader's way (eventstore.web.localized), settlement kinds translated.
Findings stored before messages had codes show their English text as it is."""

from datetime import date
from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext

from eventstore.web.localized import decimal_text
from payments.models import money_label
from payments.reconciliation.matching import MESSAGES
from payments.reconciliation.models import Finding
from payments.reconciliation.settlement_format import LINE_REFUSALS
from payments.reconciliation.texts import DATES, FIELD, FIELD_LABELS, KIND, KIND_LABELS, MONEY, NUMBERS, Refusal

FINDING_TEXTS = {**MESSAGES, **LINE_REFUSALS}


def finding_message(finding: Finding) -> str:
    if finding.message_code not in FINDING_TEXTS:  # "" for a finding stored before codes
        return finding.message
    return shown(FINDING_TEXTS[finding.message_code], finding.message_params)


def refusal_message(refusal: Refusal) -> str:
    return shown(refusal.TEXTS[refusal.code], refusal.params)


def kind_label(kind: str) -> str:
    return gettext(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


def shown(template: str, params: dict) -> str:
    """The template in the reader's language with its parameters written their way."""
    return gettext(template) % {name: _value(name, value, params) for name, value in params.items()}


def _value(name: str, value, params: dict) -> str:
    if name in MONEY:
        return money_label(Decimal(value), params[MONEY[name]])
    if name in NUMBERS:
        number = Decimal(value)
        return decimal_text(number, max(0, -number.as_tuple().exponent))
    if name in DATES:
        return formats.date_format(date.fromisoformat(value), "DATE_FORMAT")
    if name == KIND:
        return kind_label(value)
    if name == FIELD:
        return gettext(FIELD_LABELS[value])
    return str(value)
