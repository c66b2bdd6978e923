"""What reconciliation tells people, as a code and its parameters. Pure Python, no Django.

A message is stored as its code and JSON-friendly parameters (amounts as decimal strings, dates in
ISO 8601), so each reader gets it in their own language and number format; its English template
sits beside the code in one table per module, marked with `gettext_noop` for the translation
catalog. The English text (kept with every finding, for machines) is rendered from the same table.

Parameters are named for what they hold: an amount's currency is in the parameter its name maps to
in MONEY; NUMBERS are decimal strings with no currency, DATES ISO dates, `kind` a settlement kind
(charge, refund, chargeback, fee, cancel) and `field` an amount of a line (gross, fee, net), both of
which the pages translate; any other is shown as it is.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from payments.domain import minor_units

MONEY = {"amount": "currency", "trail_amount": "trail_currency"}
NUMBERS = ("gross", "fee", "net")
DATES = ("date",)
KIND = "kind"
FIELD = "field"


def gettext_noop(text: str) -> str:
    """Marks a text for the translation catalog; the pages translate it where they show it (this
    module imports no Django)."""
    return text


KIND_LABELS = {
    "charge": gettext_noop("charge"),
    "refund": gettext_noop("refund"),
    "chargeback": gettext_noop("chargeback"),
    "fee": gettext_noop("fee"),
    "cancel": gettext_noop("cancel"),
}
FIELD_LABELS = {"gross": gettext_noop("gross"), "fee": gettext_noop("fee"), "net": gettext_noop("net")}


@dataclass(frozen=True)
class Text:
    """A message of one of the tables: its code and parameters."""

    code: str
    params: dict = field(default_factory=dict)

    def english(self, templates: dict[str, str]) -> str:
        return english(templates[self.code], self.params)


def english(template: str, params: dict) -> str:
    """The template with its parameters written as the English text always wrote them: 12.00 EUR."""
    return template % {name: _english_value(name, value, params) for name, value in params.items()}


def _english_value(name: str, value, params: dict) -> str:
    if name in MONEY:
        currency = params[MONEY[name]]
        return f"{money(Decimal(value), currency)} {currency}"
    return str(value)


def money(value: Decimal, currency: str) -> str:
    """An amount with exactly the currency's minor units (lines were checked to have no more)."""
    return str(value.quantize(Decimal(1).scaleb(-minor_units(currency)))) if currency else str(value)


class Refusal(ValueError):
    """An error whose message is a code of `TEXTS` and its parameters; str() is the English text."""

    TEXTS: dict[str, str] = {}

    def __init__(self, code: str, **params):
        self.code, self.params = code, params
        super().__init__(english(self.TEXTS[code], params))

    def __reduce__(self):
        return _refusal, (type(self), self.code, self.params)


def _refusal(kind: type[Refusal], code: str, params: dict) -> Refusal:
    return kind(code, **params)
