"""The settlement file: its columns, the mappings from providers' headers, and reading one line.

Pure Python (no Django), so the same rules serve the upload, the workflow's activities and tests.

Our columns (the native mapping) follow the lines of Stripe's payout reconciliation report and
Adyen's Settlement Details Report: a reference (our payment id), a kind (charge, refund, chargeback,
fee), gross, fee and net amounts (net = gross - fee; charges are positive, refunds and chargebacks
negative), the currency, the booking date and the payout or batch the line was paid out in. A
mapping says which of a provider's columns hold each of ours; an amount may be the sum of several
columns minus others (Adyen's "Gross Credit (GC)" minus "Gross Debit (GC)").
"""

import enum
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import NamedTuple

from payments.domain import CommandRejected, canonical_payment_id, minor_units
from payments.reconciliation.texts import Refusal, gettext_noop


class Kind(enum.StrEnum):
    CHARGE = "charge"
    REFUND = "refund"
    CHARGEBACK = "chargeback"
    FEE = "fee"


SKIP = ""  # a kind value that maps here marks a line that is no settlement (a payout summary)


@dataclass(frozen=True)
class Amount:
    """An amount read from the columns `plus` (summed) minus the columns `minus`. With one column it
    must be given; with several, an empty cell counts as zero (providers leave the unused one empty)."""

    plus: tuple[str, ...]
    minus: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.plus, *self.minus)


@dataclass(frozen=True)
class Mapping:
    name: str
    title: str
    reference: str
    kind: str
    gross: Amount
    fee: Amount
    net: Amount
    currency: str
    booking_date: str
    payout_id: str
    provider_reference: str = ""  # optional column, kept for people to read
    kinds: dict[str, str] = field(default_factory=lambda: {kind.value: kind.value for kind in Kind})

    @property
    def required_columns(self) -> list[str]:
        return [self.reference, self.kind, *self.gross.columns, *self.fee.columns, *self.net.columns,
                self.currency, self.booking_date, self.payout_id]


MAPPINGS = {
    mapping.name: mapping for mapping in (
        Mapping(
            name="native", title="This application's columns",
            reference="reference", kind="kind", gross=Amount(("gross",)), fee=Amount(("fee",)), net=Amount(("net",)),
            currency="currency", booking_date="booking_date", payout_id="payout_id",
            provider_reference="provider_reference",
        ),
        Mapping(
            name="stripe", title="Stripe payout reconciliation report (itemized)",
            reference="payment_metadata[payment_id]", kind="reporting_category", gross=Amount(("gross",)),
            fee=Amount(("fee",)), net=Amount(("net",)), currency="currency", booking_date="created_utc",
            payout_id="automatic_payout_id", provider_reference="source_id",
            kinds={"charge": "charge", "refund": "refund", "dispute": "chargeback", "fee": "fee",
                   "payout": SKIP},
        ),
        Mapping(
            name="adyen", title="Adyen Settlement Details Report",
            reference="Merchant Reference", kind="Type",
            gross=Amount(("Gross Credit (GC)",), ("Gross Debit (GC)",)),
            fee=Amount(("Commission (NC)", "Markup (NC)", "Scheme Fees (NC)", "Interchange (NC)")),
            net=Amount(("Net Credit (NC)",), ("Net Debit (NC)",)),
            currency="Gross Currency", booking_date="Creation Date", payout_id="Batch Number",
            provider_reference="Psp Reference",
            kinds={"Settled": "charge", "Refunded": "refund", "Chargeback": "chargeback", "Fee": "fee",
                   "MerchantPayout": SKIP},
        ),
    )
}
AUTO = "auto"
NATIVE_COLUMNS = ["reference", "kind", "gross", "fee", "net", "currency", "booking_date", "payout_id",
                  "provider_reference"]


# Why a file is refused, by code: English templates with named parameters (payments.reconciliation.texts).
FILE_REFUSALS = {
    "unknown_mapping": gettext_noop("Unknown column mapping '%(mapping)s'; use %(choices)s."),
    "header_lacks": gettext_noop("Line 1: the header lacks the %(mapping)s columns %(missing)s."),
    "unknown_columns": gettext_noop(
        "Line 1: the columns are not those of a settlement file this application reads (native, Stripe or "
        "Adyen); for the native format the header lacks %(missing)s."),
    "empty": gettext_noop("The file is empty: a settlement file starts with a header line."),
    "not_utf8": gettext_noop("The file is not UTF-8 text."),
    "not_csv": gettext_noop("Line %(line)s: not CSV (%(error)s)."),
    "no_lines": gettext_noop("The file has a header but no lines."),
    "no_booking_date": gettext_noop("No line has a booking date this application reads: give the period."),
    "nul": gettext_noop("Line %(line)s: a NUL character; this is not a text file."),
}
# Why a line is refused, by code.
LINE_REFUSALS = {
    "width": gettext_noop("Line %(line)s: %(cells)s cells where the header has %(width)s."),
    "unknown_kind": gettext_noop("Line %(line)s: unknown kind '%(text)s'; expected one of %(expected)s."),
    "net": gettext_noop("Line %(line)s: net %(net)s is not gross %(gross)s minus fee %(fee)s."),
    "empty_amount": gettext_noop("Line %(line)s: %(field)s (%(column)s) is empty."),
    "no_reference": gettext_noop("Line %(line)s: a %(kind)s needs a reference (our payment id)."),
    "reference": gettext_noop("Line %(line)s: reference '%(text)s' is not a payment id."),
    "not_decimal": gettext_noop("Line %(line)s: %(column)s '%(text)s' is not a decimal amount such as 125.00."),
    "decimals": gettext_noop("Line %(line)s: %(column)s %(text)s has more decimals than the currency's "
                             "%(decimals)s."),
    "currency": gettext_noop("Line %(line)s: currency '%(text)s' is not an ISO 4217 code."),
    "charge_sign": gettext_noop("Line %(line)s: a charge's gross must be positive, not %(gross)s."),
    "negative_sign": gettext_noop("Line %(line)s: a %(kind)s's gross must be negative, not %(gross)s."),
    "booking_date": gettext_noop("Line %(line)s: booking date '%(text)s' is not a date such as 2024-03-05."),
}


class FileRefused(Refusal):
    """The file as a whole cannot be read with any mapping (wrong columns, not CSV text)."""

    TEXTS = FILE_REFUSALS


def choose_mapping(header: list[str], wanted: str = AUTO) -> Mapping:
    """The mapping `wanted`, or with "auto" the one whose columns the header has; FileRefused naming
    the columns missing otherwise."""
    present = {name.strip() for name in header}
    if wanted != AUTO:
        if wanted not in MAPPINGS:
            raise FileRefused("unknown_mapping", mapping=wanted[:40], choices=", ".join([AUTO, *MAPPINGS]))
        mapping = MAPPINGS[wanted]
        missing = [column for column in mapping.required_columns if column not in present]
        if missing:
            raise FileRefused("header_lacks", mapping=mapping.name, missing=", ".join(missing))
        return mapping
    fitting = [mapping for mapping in MAPPINGS.values() if set(mapping.required_columns) <= present]
    if not fitting:
        native = MAPPINGS["native"]
        missing = [column for column in native.required_columns if column not in present]
        raise FileRefused("unknown_columns", missing=", ".join(missing))
    return fitting[0]


class SettlementLine(NamedTuple):
    """One line as read: amounts as Decimal, the reference canonical ("" for a fee with none)."""

    line_number: int
    reference: str
    kind: str
    gross: Decimal
    fee: Decimal
    net: Decimal
    currency: str
    booking_date: date
    payout_id: str
    provider_reference: str = ""


class LineRefused(Refusal):
    """One line cannot be read; the message names the line and the field."""

    TEXTS = LINE_REFUSALS


class Reader:
    """Reads the lines of one file with its header and mapping."""

    def __init__(self, header: list[str], mapping: Mapping):
        self.mapping = mapping
        self.width = len(header)
        self.index = {name.strip(): position for position, name in enumerate(header)}

    def read(self, line_number: int, cells: list[str]) -> SettlementLine | None:
        """The line, None for an empty line or one the mapping skips (a payout summary), or LineRefused."""
        mapping = self.mapping
        if not cells:
            return None
        if len(cells) != self.width:
            raise LineRefused("width", line=line_number, cells=len(cells), width=self.width)
        kind_text = self._cell(cells, mapping.kind)
        if kind_text not in mapping.kinds:
            raise LineRefused("unknown_kind", line=line_number, text=kind_text[:40], expected=", ".join(mapping.kinds))
        kind = mapping.kinds[kind_text]
        if kind == SKIP:
            return None
        currency = self._cell(cells, mapping.currency).upper()
        decimals = _decimals(line_number, currency)
        gross, fee, net = (self._amount(cells, line_number, name, getattr(mapping, name), decimals)
                           for name in ("gross", "fee", "net"))
        if gross - fee != net:
            raise LineRefused("net", line=line_number, net=str(net), gross=str(gross), fee=str(fee))
        _check_sign(line_number, kind, gross)
        reference = self._reference(cells, line_number, kind)
        return SettlementLine(
            line_number=line_number, reference=reference, kind=kind, gross=gross, fee=fee, net=net, currency=currency,
            booking_date=_booking_date(line_number, self._cell(cells, mapping.booking_date)),
            payout_id=self._cell(cells, mapping.payout_id)[:100],
            provider_reference=self._cell(cells, mapping.provider_reference)[:100],
        )

    def booking_date(self, line_number: int, cells: list[str]) -> date:
        return _booking_date(line_number, self._cell(cells, self.mapping.booking_date))

    def _cell(self, cells: list[str], column: str) -> str:
        position = self.index.get(column)
        return cells[position].strip() if position is not None and position < len(cells) else ""

    def _amount(self, cells, line_number: int, name: str, amount: Amount, decimals: int) -> Decimal:
        if not amount.minus and len(amount.plus) == 1:
            text = self._cell(cells, amount.plus[0])
            if not text:
                raise LineRefused("empty_amount", line=line_number, field=name, column=amount.plus[0])
            return _decimal(line_number, amount.plus[0], text, decimals)
        texts = [(column, self._cell(cells, column)) for column in amount.columns]
        if len(texts) == 1 and not texts[0][1]:
            raise LineRefused("empty_amount", line=line_number, field=name, column=texts[0][0])
        values = {column: _decimal(line_number, column, text, decimals) for column, text in texts if text}
        return sum((values.get(c, Decimal(0)) for c in amount.plus), Decimal(0)) - sum(
            (values.get(c, Decimal(0)) for c in amount.minus), Decimal(0))

    def _reference(self, cells, line_number: int, kind: str) -> str:
        text = self._cell(cells, self.mapping.reference)
        if not text:
            if kind == Kind.FEE:
                return ""
            raise LineRefused("no_reference", line=line_number, kind=kind)
        try:
            return canonical_payment_id(text)
        except CommandRejected:
            raise LineRefused("reference", line=line_number, text=text[:120]) from None


AMOUNT_TEXT = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,3})?")


def _decimal(line_number: int, column: str, text: str, decimals: int) -> Decimal:
    if not AMOUNT_TEXT.fullmatch(text):
        raise LineRefused("not_decimal", line=line_number, column=column, text=text[:40])
    value = Decimal(text)
    if -value.as_tuple().exponent > decimals:
        raise LineRefused("decimals", line=line_number, column=column, text=text, decimals=decimals)
    return value


def _decimals(line_number: int, currency: str) -> int:
    try:
        return minor_units(currency)
    except CommandRejected:
        raise LineRefused("currency", line=line_number, text=currency[:10]) from None


def _check_sign(line_number: int, kind: str, gross: Decimal) -> None:
    if kind == Kind.CHARGE and gross <= 0:
        raise LineRefused("charge_sign", line=line_number, gross=str(gross))
    if kind in (Kind.REFUND, Kind.CHARGEBACK) and gross >= 0:
        raise LineRefused("negative_sign", line=line_number, kind=str(kind), gross=str(gross))


def _booking_date(line_number: int, text: str) -> date:
    """2024-03-05, 2024-03-05 09:30:00 (UTC, as Stripe and Adyen write it) or ISO 8601 with an offset."""
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text)
        return (moment.astimezone(UTC) if moment.tzinfo else moment).date()
    except (ValueError, OverflowError):
        raise LineRefused("booking_date", line=line_number, text=text[:40]) from None

