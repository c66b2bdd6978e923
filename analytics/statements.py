"""Period statements: for one organization and a range of business time, as known at a recorded
time, per currency the amounts processed, refunded and cancelled and the net, with the events behind
each figure. The same statement asked twice "as known at" the same time is the same, to the byte.

Events are chosen by business time (`data.occurred_at`, else when recorded: the store's
`eventstore_business_time`, which reads version 1 payment events as their upcaster does) and only
those recorded by `known_at` count, so a correction recorded after a month-end close changes the
statement as known now, never the one as known at the close.
"""

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db import connection

from analytics.rollups import Scope, facts
from analytics.selectors import AMOUNT, InvalidQuery
from eventstore.selectors import BUSINESS, time_column
from payments.domain import CommandRejected, EventType, minor_units

FIGURES = {
    EventType.PAYMENT_PROCESSED: "processed",
    EventType.PAYMENT_REFUNDED: "refunded",
    EventType.PAYMENT_CANCELLED: "cancelled",
}
FIGURE_OF = {str(event_type): figure for event_type, figure in FIGURES.items()}
MOMENT = time_column(BUSINESS, "e")
LINES_SQL = f"""
    SELECT {MOMENT}, e.recorded_at, e.stream_id, e.event_type, e.event_id, e.position, {AMOUNT}, e.data->>'currency'
    FROM eventstore_event AS e
    WHERE (e.metadata->>'organization_id') = %s AND e.event_type = ANY(%s)
      AND {MOMENT} >= %s AND {MOMENT} < %s AND e.recorded_at <= %s AND {AMOUNT} IS NOT NULL
    ORDER BY 1, e.position
"""


@dataclass(frozen=True)
class StatementLine:
    figure: str  # processed, refunded or cancelled
    occurred_at: datetime
    recorded_at: datetime
    payment_id: str
    event_type: str
    event_id: str
    position: int
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class CurrencyTotals:
    currency: str
    processed: Decimal
    refunded: Decimal
    cancelled: Decimal

    @property
    def net(self) -> Decimal:
        return self.processed - self.refunded - self.cancelled


@dataclass(frozen=True)
class Statement:
    organization_id: str
    since: datetime
    until: datetime
    known_at: datetime
    totals: list[CurrencyTotals]
    lines: list[StatementLine]

    def lines_of(self, currency: str, figure: str) -> list[StatementLine]:
        return [line for line in self.lines if line.currency == currency and line.figure == figure]


def period_statement(*, organization_id: str, since: datetime, until: datetime, known_at: datetime) -> Statement:
    """The organization's statement for business time [since, until) as recorded by `known_at`, with
    every line (read from the events: a line per event is what it lists)."""
    _check_range(since, until, known_at)
    with connection.cursor() as cursor:
        cursor.execute(LINES_SQL, [organization_id, list(FIGURE_OF), since, until, known_at])
        lines = [StatementLine(FIGURE_OF[row[3]], row[0], row[1], row[2], row[3], str(row[4]), *row[5:])
                 for row in cursor.fetchall()]
    return Statement(organization_id, since.astimezone(UTC), until.astimezone(UTC), known_at.astimezone(UTC),
                     _totals(lines), lines)


def period_totals(*, organization_id: str, since: datetime, until: datetime, known_at: datetime) -> list[CurrencyTotals]:
    """The statement's totals alone, from the daily totals of its whole days and the events of the
    rest (`analytics.rollups`): what `period_statement` sums from its lines, without reading them."""
    _check_range(since, until, known_at)
    sql, params = facts(Scope(tuple(FIGURE_OF), BUSINESS, since, until, (organization_id,), known_at))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT currency, event_type, sum(total) FROM {sql} WHERE amounts > 0"
                       f" GROUP BY 1, 2 HAVING currency IS NOT NULL", params)
        sums: dict[str, dict[str, Decimal]] = {}
        for currency, event_type, total in cursor.fetchall():
            sums.setdefault(currency, {})[FIGURE_OF[event_type]] = total
    return _currency_totals(sums)


def _check_range(since: datetime, until: datetime, known_at: datetime) -> None:
    for name, moment in (("from", since), ("to", until), ("known_at", known_at)):
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            raise InvalidQuery(name, f"'{name}' must be a date and time with a time zone.")
    if since >= until:
        raise InvalidQuery("from", "'from' must be before 'to'.")


def _totals(lines: list[StatementLine]) -> list[CurrencyTotals]:
    sums: dict[str, dict[str, Decimal]] = {}
    for line in lines:
        figures = sums.setdefault(line.currency, {})
        figures[line.figure] = figures.get(line.figure, Decimal(0)) + line.amount
    return _currency_totals(sums)


def _currency_totals(sums: dict[str, dict[str, Decimal]]) -> list[CurrencyTotals]:
    return [CurrencyTotals(currency, *(_in_minor_units(figures.get(figure), currency) for figure in FIGURES.values()))
            for currency, figures in sorted(sums.items())]


def _in_minor_units(amount: Decimal | None, currency: str) -> Decimal:
    try:
        exponent = minor_units(currency)
    except CommandRejected:  # not a currency the rules accept today: shown as stored
        return amount or Decimal(0)
    return (amount or Decimal(0)).quantize(Decimal(1).scaleb(-exponent))


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def statement_csv(statement: Statement) -> str:
    """The statement as CSV: its scope, the totals per currency, then every event behind them. Nothing
    in it depends on when it is generated, only on what was recorded by `known_at`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([
        ["statement", statement.organization_id],
        ["occurred from", _time(statement.since)], ["occurred before", _time(statement.until)],
        ["as known at", _time(statement.known_at)], [],
        ["currency", "processed", "refunded", "cancelled", "net"],
        *([t.currency, *(format(v, "f") for v in (t.processed, t.refunded, t.cancelled, t.net))] for t in statement.totals),
        [],
        ["figure", "currency", "amount", "occurred_at", "recorded_at", "payment_id", "event_type", "event_id", "position"],
        *([line.figure, line.currency, format(line.amount, "f"), _time(line.occurred_at), _time(line.recorded_at),
           line.payment_id, line.event_type, line.event_id, line.position] for line in statement.lines),
    ])
    return out.getvalue()


def statement_file_name(statement: Statement) -> str:
    return (f"statement-{statement.organization_id}-{statement.since:%Y%m%d}-{statement.until:%Y%m%d}"
            f"-known-{statement.known_at:%Y%m%dT%H%M%S%fZ}.csv")
