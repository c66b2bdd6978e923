"""Period statements: for one organization and a range of business time, as known at a recorded
time, per currency the amounts processed, refunded and cancelled and the net, with the events behind
each figure. The same statement asked twice "as known at" the same time is the same, to the byte.

Events are chosen by business time (`data.occurred_at`, else when recorded: the store's
`eventstore_business_time`, which reads version 1 payment events as their upcaster does) and only
those recorded by `known_at` count, so a correction recorded after a month-end close changes the
statement as known now, never the one as known at the close.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics.selectors import AMOUNT, InvalidQuery
from eventstore.selectors import BUSINESS, time_column
from eventstore.web.exports import Amount, Label, Sheet, csv_text
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
    """The organization's statement for business time [since, until) as recorded by `known_at`."""
    for name, moment in (("from", since), ("to", until), ("known_at", known_at)):
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            raise InvalidQuery(name, _("'%(name)s' must be a date and time with a time zone.") % {"name": name})
    if since >= until:
        raise InvalidQuery("from", _("'from' must be before 'to'."))
    with connection.cursor() as cursor:
        cursor.execute(LINES_SQL, [organization_id, list(FIGURE_OF), since, until, known_at])
        lines = [StatementLine(FIGURE_OF[row[3]], row[0], row[1], row[2], row[3], str(row[4]), *row[5:])
                 for row in cursor.fetchall()]
    return Statement(organization_id, since.astimezone(UTC), until.astimezone(UTC), known_at.astimezone(UTC),
                     _totals(lines), lines)


def _totals(lines: list[StatementLine]) -> list[CurrencyTotals]:
    sums: dict[str, dict[str, Decimal]] = {}
    for line in lines:
        figures = sums.setdefault(line.currency, {})
        figures[line.figure] = figures.get(line.figure, Decimal(0)) + line.amount
    return [CurrencyTotals(currency, *(_in_minor_units(figures.get(figure), currency) for figure in FIGURES.values()))
            for currency, figures in sorted(sums.items())]


def _minor_units_or_none(currency: str) -> int | None:
    try:
        return minor_units(currency)
    except CommandRejected:
        return None


def _in_minor_units(amount: Decimal | None, currency: str) -> Decimal:
    exponent = _minor_units_or_none(currency)
    if exponent is None:  # not a currency the rules accept today: shown as stored
        return amount or Decimal(0)
    return (amount or Decimal(0)).quantize(Decimal(1).scaleb(-exponent))


def statement_sheets(statement: Statement) -> list[Sheet]:
    """The statement as an export (CSV or XLSX, eventstore/web/exports.py): its scope and the totals per
    currency, then every event behind them. Nothing in it depends on when it is generated, only on what
    was recorded by `known_at`; CSV is the same in every language, XLSX speaks the reader's."""
    def money(amount: Decimal, currency: str) -> Amount:
        return Amount(amount, currency, _minor_units_or_none(currency))

    label = {name: Label(name, str(text)) for name, text in LABELS.items()}
    summary = [
        [label["statement"], statement.organization_id],
        [label["occurred from"], statement.since], [label["occurred before"], statement.until],
        [label["as known at"], statement.known_at], [],
        [label[name] for name in ("currency", *FIGURES.values(), "net")],
        *([t.currency, *(money(v, t.currency) for v in (t.processed, t.refunded, t.cancelled, t.net))]
          for t in statement.totals),
    ]
    header = [label[name] for name in ("figure", "currency", "amount", "occurred_at", "recorded_at", "payment_id",
                                       "event_type", "event_id", "position")]
    events = (
        [label[line.figure], line.currency, money(line.amount, line.currency), line.occurred_at, line.recorded_at,
         line.payment_id, line.event_type, line.event_id, line.position] for line in statement.lines)
    return [Sheet(_("Statement"), summary), Sheet(_("Events"), [header, *events])]


# The statement's names: as they are in CSV, and in the reader's language in XLSX.
LABELS = {
    "statement": gettext_lazy("statement"), "occurred from": gettext_lazy("occurred from"),
    "occurred before": gettext_lazy("occurred before"), "as known at": gettext_lazy("as known at"),
    "currency": gettext_lazy("currency"), "processed": gettext_lazy("processed"),
    "refunded": gettext_lazy("refunded"), "cancelled": gettext_lazy("cancelled"), "net": gettext_lazy("net"), "figure": gettext_lazy("figure"),
    "amount": gettext_lazy("amount"), "occurred_at": gettext_lazy("occurred at"),
    "recorded_at": gettext_lazy("recorded at"), "payment_id": gettext_lazy("payment id"),
    "event_type": gettext_lazy("event type"), "event_id": gettext_lazy("event id"), "position": gettext_lazy("position"),
}


def statement_csv(statement: Statement) -> str:
    """The statement as CSV, byte-identical for the same `known_at`."""
    return csv_text(statement_sheets(statement))


def statement_file_stem(statement: Statement) -> str:
    return (f"statement-{statement.organization_id}-{statement.since:%Y%m%d}-{statement.until:%Y%m%d}"
            f"-known-{statement.known_at:%Y%m%dT%H%M%S%fZ}")


def statement_file_name(statement: Statement) -> str:
    return f"{statement_file_stem(statement)}.csv"
