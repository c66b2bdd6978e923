"""Numbers, money and moments written the reader's way, in the active language: 1,234.50 EUR, 1,106,107,
2026-11-26 11:55:55 UTC and "Nov 2026" in English; 1 234,50 €, 1 106 107, 26/11/2026 11:55:55 UTC and
"nov. 2026" in French. Separators, symbols and month names are Babel's (CLDR), date formats Django's of
the language (config/formats/). Machine formats (CSV, the API) never come here: they keep plain
decimals and ISO 8601.

A list page writes a few hundred of these, so the common cases skip Babel's and Django's general
formatters: numbers grouped by thousands go through Python's own formatting with the locale's
separators swapped in, and date formats made only of common letters through strftime.
"""

import functools
from datetime import datetime
from decimal import Decimal

from babel import Locale
from babel.dates import format_datetime
from babel.numbers import format_decimal, get_currency_symbol
from django.conf import settings
from django.utils import formats
from django.utils.translation import get_language, to_locale

# Where the currency goes, per language: English keeps the ISO code after the figure, as the lists and
# statements always showed it; French writes the symbol after the figure, as French invoices do.
_CODE_AFTER = "{number} {code}"
_SYMBOL_AFTER = "{number}\N{NO-BREAK SPACE}{symbol}"
_MONEY_LAYOUTS = {"en": _CODE_AFTER, "fr": _SYMBOL_AFTER}
# Django's date format letters that strftime writes the same way.
_STRFTIME = {"Y": "%Y", "m": "%m", "d": "%d", "H": "%H", "i": "%M", "s": "%S", "T": "%Z"}


def _language() -> str:
    return get_language() or settings.LANGUAGE_CODE


def reader_locale() -> Locale:
    return _locale(_language())


@functools.lru_cache(maxsize=16)
def _locale(language: str) -> Locale:
    return Locale.parse(to_locale(language))


@functools.lru_cache(maxsize=16)
def _separators(language: str) -> dict | None:
    """The translation from Python's 1,234.5 to the locale's, when it groups by thousands (else None)."""
    locale = _locale(language)
    pattern = locale.decimal_formats.get(None)
    if pattern is None or pattern.grouping != (3, 3):
        return None
    symbols = locale.number_symbols.get("latn", locale.number_symbols)
    return str.maketrans({",": symbols["group"], ".": symbols["decimal"], "-": symbols["minusSign"]})


def count_text(value: int) -> str:
    """A count with the reader's grouping: 1,106,107 or 1 106 107."""
    separators = _separators(_language())
    if separators is None:
        return format_decimal(value, locale=reader_locale())
    return f"{value:,}".translate(separators)


def decimal_text(amount: Decimal, decimals: int) -> str:
    """An amount with exactly `decimals` places and the reader's separators: 1,234.50 or 1 234,50."""
    separators = _separators(_language())
    if separators is None:
        return format_decimal(amount, format=_pattern(decimals), locale=reader_locale(), decimal_quantization=True)
    return f"{amount:,.{decimals}f}".translate(separators)


def money_text(amount: Decimal, currency: str, decimals: int) -> str:
    """An amount and its currency the reader's way: 1,234.50 EUR or 1 234,50 €."""
    language = _language()
    layout = _MONEY_LAYOUTS.get(_locale(language).language, _CODE_AFTER)
    return layout.format(number=decimal_text(amount, decimals), code=currency, symbol=_symbol(currency, language))


@functools.lru_cache(maxsize=256)
def _symbol(currency: str, language: str) -> str:
    return get_currency_symbol(currency, locale=_locale(language))


@functools.lru_cache(maxsize=8)
def _pattern(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def moment_text(moment: datetime) -> str:
    """A moment (already in the zone to show) in the language's DATETIME_FORMAT: 2026-11-26 11:55:55 UTC."""
    django_format = formats.get_format("DATETIME_FORMAT")
    pattern = _strftime_pattern(django_format)
    return moment.strftime(pattern) if pattern else formats.date_format(moment, django_format)


@functools.lru_cache(maxsize=16)
def _strftime_pattern(django_format: str) -> str | None:
    """The same format for strftime, when every letter of it has a strftime twin (else None)."""
    pattern = []
    for character in django_format:
        if character.isalpha():
            if character not in _STRFTIME:
                return None
            pattern.append(_STRFTIME[character])
        elif character in "%\\":
            return None
        else:
            pattern.append(character)
    return "".join(pattern)


def moment_label(moment: datetime, pattern: str) -> str:
    """A moment in a CLDR pattern with the reader's month names: "MMM y" is Nov 2026 or nov. 2026."""
    return format_datetime(moment, pattern, tzinfo=moment.tzinfo, locale=reader_locale())
