"""Numbers, money and date labels written the reader's way, in the active language (Babel's CLDR data):
1,234.50 EUR, 1,106,107 and "Nov 2026" in English; 1 234,50 €, 1 106 107 and "nov. 2026" in French.
Machine formats (CSV, the API) never come here: they keep plain decimals and ISO 8601. (Full dates and
moments follow Django's formats of the language: config/formats/.)"""

import functools
from decimal import Decimal

from datetime import datetime

from babel import Locale
from babel.dates import format_datetime
from babel.numbers import format_decimal, get_currency_symbol
from django.conf import settings
from django.utils.translation import get_language, to_locale

# Where the currency goes, per language: English keeps the ISO code after the figure, as the lists and
# statements always showed it; French writes the symbol after the figure, as French invoices do.
_CODE_AFTER = "{number} {code}"
_SYMBOL_AFTER = "{number}\N{NO-BREAK SPACE}{symbol}"
_MONEY_LAYOUTS = {"en": _CODE_AFTER, "fr": _SYMBOL_AFTER}


def reader_locale() -> Locale:
    return _locale(get_language() or settings.LANGUAGE_CODE)


@functools.lru_cache(maxsize=16)
def _locale(language: str) -> Locale:
    return Locale.parse(to_locale(language))


def count_text(value: int) -> str:
    """A count with the reader's grouping: 1,106,107 or 1 106 107."""
    return format_decimal(value, locale=reader_locale())


def decimal_text(amount: Decimal, decimals: int) -> str:
    """An amount with exactly `decimals` places and the reader's separators: 1,234.50 or 1 234,50."""
    return format_decimal(amount, format=_pattern(decimals), locale=reader_locale(), decimal_quantization=True)


def money_text(amount: Decimal, currency: str, decimals: int) -> str:
    """An amount and its currency the reader's way: 1,234.50 EUR or 1 234,50 €."""
    locale = reader_locale()
    layout = _MONEY_LAYOUTS.get(locale.language, _CODE_AFTER)
    return layout.format(number=decimal_text(amount, decimals), code=currency,
                         symbol=get_currency_symbol(currency, locale=locale))


@functools.lru_cache(maxsize=8)
def _pattern(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def moment_label(moment: datetime, pattern: str) -> str:
    """A moment in a CLDR pattern with the reader's month names: "MMM y" is Nov 2026 or nov. 2026."""
    return format_datetime(moment, pattern, tzinfo=moment.tzinfo, locale=reader_locale())
