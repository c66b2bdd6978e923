"""Matching settlement lines with the trail, one payment at a time. Pure Python, no Django.

Both sides arrive sorted by payment id (`merge_by_payment`), so a run holds one payment's lines and
events at a time, never the file. For each payment:

- a charge line matches the payment's PaymentProcessed event (a cancelled payment settles no charge),
  a refund line one of its PaymentRefunded events, first those of the same amount and currency;
- a line left over that repeats an earlier line of the payment (kind, gross, currency) is a
  duplicate; one that finds an event left over is an amount or currency mismatch with it; any other
  is in the file but not in the trail;
- a chargeback matches the payment if it is the payment's currency and at most its amount;
- an event left over that occurred in the file's period is in the trail but not in the file;
- fee lines are the provider's own charges: counted, matched with nothing.

Every line of the file ends in exactly one outcome, so the outcomes' totals add up to the file's.
"""

import enum
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Iterable, Iterator

from payments.reconciliation.texts import Text, gettext_noop, money


class Outcome(enum.StrEnum):
    MATCHED = "matched"
    FEE = "fee"
    NOT_IN_TRAIL = "not_in_trail"
    NOT_IN_FILE = "not_in_file"
    AMOUNT_MISMATCH = "amount_mismatch"
    CURRENCY_MISMATCH = "currency_mismatch"
    DUPLICATE = "duplicate"
    INVALID = "invalid"


OUTCOME_LABELS = {
    Outcome.MATCHED: gettext_noop("Matched"),
    Outcome.FEE: gettext_noop("Provider fee"),
    Outcome.NOT_IN_TRAIL: gettext_noop("In the file, not in the trail"),
    Outcome.NOT_IN_FILE: gettext_noop("In the trail, not in the file"),
    Outcome.AMOUNT_MISMATCH: gettext_noop("Amount mismatch"),
    Outcome.CURRENCY_MISMATCH: gettext_noop("Currency mismatch"),
    Outcome.DUPLICATE: gettext_noop("Duplicate line"),
    Outcome.INVALID: gettext_noop("Line that cannot be read"),
}
# What a result says, by code: English templates with named parameters (payments.reconciliation.texts).
MESSAGES = {
    "fee": gettext_noop("A fee of the provider."),
    "not_in_file": gettext_noop("The %(kind)s of %(amount)s on %(date)s is in the trail but not in the file."),
    "duplicate": gettext_noop("Repeats an earlier %(kind)s line of %(reference)s."),
    "currency_mismatch": gettext_noop("The file says %(currency)s, the trail's %(kind)s is %(trail_amount)s."),
    "amount_mismatch": gettext_noop("The file says %(amount)s, the trail's %(kind)s is %(trail_amount)s."),
    "no_payment": gettext_noop("No payment %(reference)s of %(organization)s in the trail."),
    "cancelled": gettext_noop("Payment %(reference)s was cancelled: the trail has no charge to settle."),
    "not_in_trail": gettext_noop("The trail has no %(kind)s of %(amount)s for %(reference)s."),
    "chargeback_currency": gettext_noop("Chargeback in %(currency)s of a payment in %(trail_currency)s."),
    "chargeback_exceeds": gettext_noop("Chargeback of %(amount)s exceeds the payment's %(trail_amount)s."),
}
# Outcomes that need a person's attention: each is a finding, which can be resolved with a note.
FINDINGS = tuple(outcome for outcome in Outcome if outcome not in (Outcome.MATCHED, Outcome.FEE))


@dataclass(frozen=True)
class Line:
    line_number: int
    reference: str
    kind: str
    gross: Decimal
    fee: Decimal
    net: Decimal
    currency: str


@dataclass(frozen=True)
class TrailEntry:
    """A payment event the file should show: a charge (PaymentProcessed) or a refund (PaymentRefunded)."""

    payment_id: str
    kind: str  # "charge", "refund" or "cancel"
    event_id: str
    amount: Decimal
    currency: str
    occurred_on: date


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    text: Text | None  # what it says, None for a match
    line: Line | None = None
    entry: TrailEntry | None = None

    @property
    def message(self) -> str:
        """The English text ("" for a match)."""
        return self.text.english(MESSAGES) if self.text else ""


def merge_by_payment(lines: Iterable[Line], entries: Iterable[TrailEntry]) -> Iterator[tuple[str, list, list]]:
    """(payment id, its lines, its trail entries) for every payment id on either side, in the order
    both iterables are sorted by (payment id first)."""
    lines, entries = iter(lines), iter(entries)
    line, entry = next(lines, None), next(entries, None)
    while line is not None or entry is not None:
        key = min(item.reference if isinstance(item, Line) else item.payment_id
                  for item in (line, entry) if item is not None)
        group_lines, group_entries = [], []
        while line is not None and line.reference == key:
            group_lines.append(line)
            line = next(lines, None)
        while entry is not None and entry.payment_id == key:
            group_entries.append(entry)
            entry = next(entries, None)
        yield key, group_lines, group_entries


def reconcile_payment(payment_id: str, lines: list[Line], entries: list[TrailEntry], *, organization_id: str,
                      period: tuple[date, date]) -> list[Result]:
    """Every line's outcome and the events no line accounted for (see the module's rules)."""
    cancelled = any(entry.kind == "cancel" for entry in entries)
    charge_entries = [entry for entry in entries if entry.kind == "charge"]
    expected = {
        "charge": [] if cancelled else list(charge_entries),
        "refund": [entry for entry in entries if entry.kind == "refund"],
    }
    results: list[Result] = []
    seen: list[Line] = []
    for line in lines:
        if line.kind == "fee":
            results.append(Result(Outcome.FEE, Text("fee"), line))
        elif line.kind == "chargeback":
            results.append(_chargeback(line, charge_entries, seen, organization_id))
        seen.append(line)
    payment_lines = [line for line in lines if line.kind in expected]
    unmatched = []
    for line in payment_lines:
        pending = expected[line.kind]
        same = next((entry for entry in pending if entry.amount == abs(line.gross) and entry.currency == line.currency),
                    None)
        if same is None:
            unmatched.append(line)
        else:
            pending.remove(same)
            results.append(Result(Outcome.MATCHED, None, line, same))
    for line in unmatched:
        results.append(_left_over(line, expected[line.kind], lines, entries, cancelled, organization_id))
    start, end = period
    for entry in expected["charge"] + expected["refund"]:
        if start <= entry.occurred_on <= end:
            results.append(Result(Outcome.NOT_IN_FILE, Text("not_in_file", {
                "kind": entry.kind, **_trail_amount(entry, "amount", "currency"),
                "date": entry.occurred_on.isoformat()}), entry=entry))
    return results


def _line_amount(line: Line) -> dict:
    return {"amount": money(abs(line.gross), line.currency), "currency": line.currency}


def _trail_amount(entry: TrailEntry, name: str = "trail_amount", currency: str = "trail_currency") -> dict:
    return {name: money(entry.amount, entry.currency), currency: entry.currency}


def _repeats(line: Line, lines: list[Line]) -> bool:
    return any(other.line_number < line.line_number and (other.kind, other.gross, other.currency)
               == (line.kind, line.gross, line.currency) for other in lines)


def _left_over(line: Line, pending: list[TrailEntry], lines: list[Line], entries: list[TrailEntry], cancelled: bool,
               organization_id: str) -> Result:
    if _repeats(line, lines):
        return Result(Outcome.DUPLICATE, Text("duplicate", {"kind": line.kind, "reference": line.reference}), line)
    if pending:
        entry = pending.pop(0)
        if entry.currency != line.currency:
            return Result(Outcome.CURRENCY_MISMATCH, Text("currency_mismatch", {
                "currency": line.currency, "kind": entry.kind, **_trail_amount(entry)}), line, entry)
        return Result(Outcome.AMOUNT_MISMATCH, Text("amount_mismatch", {
            **_line_amount(line), "kind": entry.kind, **_trail_amount(entry)}), line, entry)
    if not entries:
        return Result(Outcome.NOT_IN_TRAIL, _no_payment(line, organization_id), line)
    if line.kind == "charge" and cancelled:
        return Result(Outcome.NOT_IN_TRAIL, Text("cancelled", {"reference": line.reference}), line)
    return Result(Outcome.NOT_IN_TRAIL, Text("not_in_trail", {
        "kind": line.kind, **_line_amount(line), "reference": line.reference}), line)


def _no_payment(line: Line, organization_id: str) -> Text:
    return Text("no_payment", {"reference": line.reference, "organization": organization_id})


def _chargeback(line: Line, charges: list[TrailEntry], seen: list[Line], organization_id: str) -> Result:
    if any((other.kind, other.gross, other.currency) == (line.kind, line.gross, line.currency) for other in seen):
        return Result(Outcome.DUPLICATE, Text("duplicate", {"kind": line.kind, "reference": line.reference}), line)
    if not charges:
        return Result(Outcome.NOT_IN_TRAIL, _no_payment(line, organization_id), line)
    charge = charges[0]
    if charge.currency != line.currency:
        return Result(Outcome.CURRENCY_MISMATCH, Text("chargeback_currency", {
            "currency": line.currency, "trail_currency": charge.currency}), line, charge)
    if abs(line.gross) > charge.amount:
        return Result(Outcome.AMOUNT_MISMATCH, Text("chargeback_exceeds", {
            **_line_amount(line), **_trail_amount(charge)}), line, charge)
    return Result(Outcome.MATCHED, None, line, charge)


@dataclass
class Totals:
    """Counts and sums by outcome and currency: the file's side (gross, fee, net of lines) and the
    trail's (amounts of events no line accounted for). Small: a few outcomes times a few currencies."""

    rows: dict[tuple[str, str], dict] = field(default_factory=dict)

    def add(self, result: Result) -> None:
        currency = result.line.currency if result.line else result.entry.currency if result.entry else ""
        row = self.rows.setdefault((str(result.outcome), currency), {
            "outcome": str(result.outcome), "currency": currency, "count": 0,
            "gross": Decimal(0), "fee": Decimal(0), "net": Decimal(0), "trail_amount": Decimal(0)})
        row["count"] += 1
        if result.line is not None:
            row["gross"] += result.line.gross
            row["fee"] += result.line.fee
            row["net"] += result.line.net
        elif result.entry is not None:
            row["trail_amount"] += result.entry.amount

    def add_unread(self, count: int) -> None:
        """Lines that could not be read: counted, with no amounts to add."""
        for _ in range(count):
            self.add(Result(Outcome.INVALID, None))

    def as_list(self) -> list[dict]:
        """Rows sorted by outcome and currency, money as decimal strings."""
        return [{name: money(value, row["currency"]) if isinstance(value, Decimal) else value
                 for name, value in row.items()} for _, row in sorted(self.rows.items())]


def file_side_sums(rows: list[dict]) -> dict[str, dict[str, str]]:
    """By currency, the gross, fee and net of every line's outcome: what the file's totals must equal."""
    sums: dict[str, dict[str, Decimal]] = {}
    for row in rows:
        if row["outcome"] == Outcome.NOT_IN_FILE or not row["currency"]:  # no line, or one that cannot be read
            continue
        currency = sums.setdefault(row["currency"], {"gross": Decimal(0), "fee": Decimal(0), "net": Decimal(0)})
        for name in currency:
            currency[name] += Decimal(row[name])
    return {code: {name: money(value, code) for name, value in values.items()} for code, values in sorted(sums.items())}

