"""Period statements that balance and prove themselves: for one organization and a range of business
time, as known at a recorded time, per currency the opening balance, the movements by kind (payments
processed in, refunds and cancellations out) and the closing balance, opening + movements; every
movement with its event id, ledger index and hash, and the signed tree head that holds every event
the statement used. The same statement asked twice "as known at" the same time is the same, to the
byte.

Events are chosen by business time (`data.occurred_at`, else when recorded: the store's
`eventstore_business_time`, which reads version 1 payment events as their upcaster does) and only
those recorded by `known_at` count, so a correction recorded after a month-end close changes the
statement as known now, never the one as known at the close. The opening balance is every movement
that occurred before the period, as known at the same time: from the daily totals of the days before it
and the events of the rest (`analytics.rollups`), so that it costs the days of the history, not its
events.

The JSON export (`statement_json`) states its own rules (which event types move the balance, with
which sign, where amount, currency, organization and business time are read): the bundle's offline
verifier (`verify.py --statement`) applies them to the bundle's events and compares, knowing nothing
of payments.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics.rollups import Scope, facts
from analytics.selectors import AMOUNT, InvalidQuery
from eventstore.ledger.selectors import head_covering, ledger_indexes
from eventstore.replica import read_connection
from eventstore.selectors import BUSINESS, time_column
from eventstore.web.exports import Amount, Label, Sheet, csv_text
from payments.domain import CommandRejected, EventType, minor_units

FORMAT = "payments-statement/1"
FIGURES = {
    EventType.PAYMENT_PROCESSED: "processed",
    EventType.PAYMENT_REFUNDED: "refunded",
    EventType.PAYMENT_CANCELLED: "cancelled",
}
FIGURE_OF = {str(event_type): figure for event_type, figure in FIGURES.items()}
SIGNS = {"processed": 1, "refunded": -1, "cancelled": -1}  # into the balance, or out of it
# Where each event's figures are read (dotted paths into the event), and which events move the balance.
# An event counts when its organization is the statement's, its type a movement's, its amount a decimal
# and its recorded_at at or before known_at; its business time is `business_time` when that is an ISO
# 8601 time with an offset, else its recorded_at. Opening: the signed movements that occurred before
# `from`; closing: opening plus those that occurred in [from, to).
RULES = {
    "organization": "metadata.organization_id",
    "amount": "data.amount",
    "currency": "data.currency",
    "business_time": "data.occurred_at",
    "movements": [{"event_type": str(event_type), "kind": figure, "sign": SIGNS[figure]}
                  for event_type, figure in FIGURES.items()],
}
MOMENT = time_column(BUSINESS, "e")
SCOPE = f"""(e.metadata->>'organization_id') = %s AND e.event_type = ANY(%s) AND e.recorded_at <= %s
            AND {AMOUNT} IS NOT NULL"""
# each line's leaf looked up by its position (a join would read every leaf to hash them)
LINE_COLUMNS = f"""{MOMENT}, e.recorded_at, e.stream_id, e.event_type, e.event_id, e.position, {AMOUNT},
    e.data->>'currency', (SELECT entry.ledger_index FROM eventstore_ledgerentry AS entry
                          WHERE entry.position = e.position), e.hash"""
LINES_SQL = f"""
    SELECT {LINE_COLUMNS}, ARRAY[e.transaction_id, e.position]
    FROM eventstore_event AS e
    WHERE {SCOPE} AND {MOMENT} >= %s AND {MOMENT} < %s
    ORDER BY 1, e.position
"""
OPENING_EVENTS_SQL = f"""
    SELECT {LINE_COLUMNS}
    FROM eventstore_event AS e
    WHERE {SCOPE} AND {MOMENT} < %s AND e.data->>'currency' = %s
    ORDER BY 1 DESC, e.position DESC LIMIT %s
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
    ledger_index: int | None  # None until the ledger holds the event
    hash: str


@dataclass(frozen=True)
class CurrencyTotals:
    currency: str
    opening: Decimal
    processed: Decimal
    refunded: Decimal
    cancelled: Decimal
    opening_events: int = 0

    @property
    def net(self) -> Decimal:
        return self.processed - self.refunded - self.cancelled

    @property
    def closing(self) -> Decimal:
        return self.opening + self.net


@dataclass(frozen=True)
class Statement:
    organization_id: str
    since: datetime
    until: datetime
    known_at: datetime
    totals: list[CurrencyTotals]
    lines: list[StatementLine]
    time_zone: str = "UTC"  # the calendar the period was cut in (for people; the bounds are instants)
    tree_head: dict | None = None  # the first signed head holding the newest place used (so every event used)
    in_ledger: bool = True  # whether the ledger holds every event used (then a head can be signed over them)

    def lines_of(self, currency: str, figure: str) -> list[StatementLine]:
        return [line for line in self.lines if line.currency == currency and line.figure == figure]


def period_statement(*, organization_id: str, since: datetime, until: datetime, known_at: datetime,
                     time_zone: str = "UTC", reporting_currency: str | None = None) -> Statement:
    """The organization's statement for business time [since, until) as recorded by `known_at`;
    `reporting_currency` first among the currencies."""
    _check(since, until, known_at)
    with read_connection().cursor() as cursor:
        cursor.execute(LINES_SQL, [organization_id, list(FIGURE_OF), known_at, since, until])
        line_rows = cursor.fetchall()
        cursor.execute(*opening_query(organization_id=organization_id, since=since, known_at=known_at))
        opening = cursor.fetchall()
    opening_rows = [row for row in opening if row[3] > 0]
    lines = [_line(row[:-1]) for row in line_rows]
    # The ledger numbers events in commit order: the newest place used has the largest ledger index of
    # them all, and when it has one, so has every other; it is all the head needs.
    last = max([row[-1] for row in line_rows] + [row[4] for row in opening if opening_rows and row[4]], default=None)
    index = ledger_indexes([last[1]])[last[1]] if last else None
    head = head_covering(index) if index is not None else None
    return Statement(organization_id, since.astimezone(UTC), until.astimezone(UTC), known_at.astimezone(UTC),
                     _totals(lines, opening_rows, reporting_currency), lines, time_zone, _head_document(head),
                     in_ledger=last is None or index is not None)


def opening_query(*, organization_id: str, since: datetime, known_at: datetime) -> tuple[str, list]:
    """SQL of the opening balance's sums per currency and event type, the count of their events (groups
    of none are there too, for their place) and the newest place they hold, and its parameters: every
    business time before `since` as known at `known_at`, from the daily totals (`analytics.rollups`)."""
    sql, params = facts(Scope(tuple(FIGURE_OF), BUSINESS, None, since, (organization_id,), known_at, newest=True))
    return (f"SELECT currency, event_type, coalesce(sum(total), 0), coalesce(sum(amounts), 0)::bigint, max(newest)"
            f" FROM {sql} GROUP BY 1, 2"), params


def opening_events(statement: Statement, currency: str, *, limit: int) -> list[StatementLine]:
    """The events behind a currency's opening balance, newest first, at most `limit` of them."""
    with read_connection().cursor() as cursor:
        cursor.execute(OPENING_EVENTS_SQL, [statement.organization_id, list(FIGURE_OF), statement.known_at,
                                            statement.since, currency, limit])
        return [_line(row) for row in cursor.fetchall()]


def period_totals(*, organization_id: str, since: datetime, until: datetime, known_at: datetime) -> list[CurrencyTotals]:
    """The period's movements alone (opening balances left at zero), from the daily totals of its whole
    days and the events of the rest (`analytics.rollups`): what `period_statement` sums from its lines,
    without reading them."""
    _check(since, until, known_at)
    sql, params = facts(Scope(tuple(FIGURE_OF), BUSINESS, since, until, (organization_id,), known_at))
    with read_connection().cursor() as cursor:
        cursor.execute(f"SELECT currency, event_type, sum(total) FROM {sql}"
                       f" GROUP BY 1, 2 HAVING currency IS NOT NULL AND sum(amounts) > 0", params)
        sums: dict[str, dict[str, Decimal]] = {}
        for currency, event_type, total in cursor.fetchall():
            sums.setdefault(currency, {})[FIGURE_OF[event_type]] = total
    return [CurrencyTotals(currency, Decimal(0), *(_in_minor_units(figures.get(figure), currency)
                                                   for figure in FIGURES.values()))
            for currency, figures in sorted(sums.items())]


def _check(since, until, known_at) -> None:
    for name, moment in (("from", since), ("to", until), ("known_at", known_at)):
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            raise InvalidQuery(name, _("'%(name)s' must be a date and time with a time zone.") % {"name": name})
    if since >= until:
        raise InvalidQuery("from", _("'from' must be before 'to'."))


def _line(row) -> StatementLine:
    occurred_at, recorded_at, stream_id, event_type, event_id, position, amount, currency, index, digest = row
    return StatementLine(FIGURE_OF[event_type], occurred_at, recorded_at, stream_id, event_type, str(event_id),
                         position, amount, currency, index, digest)


def _head_document(head) -> dict | None:
    if head is None:
        return None
    return {"tree_size": head.tree_size, "timestamp": _time(head.timestamp), "root_hash": head.root_hash,
            "public_key": head.public_key}


def _totals(lines: list[StatementLine], opening_rows, reporting_currency: str | None) -> list[CurrencyTotals]:
    sums: dict[str, dict[str, Decimal]] = {}
    counts: dict[str, int] = {}
    for currency, event_type, amount, count, _newest in opening_rows:
        figures = sums.setdefault(currency, {})
        figures["opening"] = figures.get("opening", Decimal(0)) + SIGNS[FIGURE_OF[event_type]] * amount
        counts[currency] = counts.get(currency, 0) + count
    for line in lines:
        figures = sums.setdefault(line.currency, {})
        figures[line.figure] = figures.get(line.figure, Decimal(0)) + line.amount
    order = sorted(sums, key=lambda currency: (currency != reporting_currency, currency))
    return [CurrencyTotals(currency, *(_in_minor_units(sums[currency].get(figure), currency)
                                       for figure in ("opening", *FIGURES.values())), counts.get(currency, 0))
            for currency in order]


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
    head = statement.tree_head
    summary = [
        [label["statement"], statement.organization_id],
        [label["occurred from"], statement.since], [label["occurred before"], statement.until],
        [label["time zone"], statement.time_zone], [label["as known at"], statement.known_at],
        [label["signed tree head"],
         *([head["tree_size"], head["root_hash"], head["timestamp"]] if head else [label["none yet"]])], [],
        [label[name] for name in ("currency", "opening", *FIGURES.values(), "net", "closing")],
        *([t.currency, *(money(v, t.currency) for v in (t.opening, t.processed, t.refunded, t.cancelled, t.net,
                                                         t.closing))]
          for t in statement.totals),
    ]
    header = [label[name] for name in ("figure", "currency", "amount", "occurred_at", "recorded_at", "payment_id",
                                       "event_type", "event_id", "position", "ledger_index", "hash")]
    events = (
        [label[line.figure], line.currency, money(line.amount, line.currency), line.occurred_at, line.recorded_at,
         line.payment_id, line.event_type, line.event_id, line.position, line.ledger_index, line.hash]
        for line in statement.lines)
    return [Sheet(_("Statement"), summary), Sheet(_("Events"), [header, *events])]


# The statement's names: as they are in CSV, and in the reader's language in XLSX.
LABELS = {
    "statement": gettext_lazy("statement"), "occurred from": gettext_lazy("occurred from"),
    "occurred before": gettext_lazy("occurred before"), "as known at": gettext_lazy("as known at"),
    "currency": gettext_lazy("currency"), "processed": gettext_lazy("processed"),
    "refunded": gettext_lazy("refunded"), "cancelled": gettext_lazy("cancelled"), "net": gettext_lazy("net"),
    "opening": gettext_lazy("opening"), "closing": gettext_lazy("closing"), "time zone": gettext_lazy("time zone"),
    "signed tree head": gettext_lazy("signed tree head"), "none yet": gettext_lazy("none yet"),
    "ledger_index": gettext_lazy("ledger index"), "hash": gettext_lazy("hash"), "figure": gettext_lazy("figure"),
    "amount": gettext_lazy("amount"), "occurred_at": gettext_lazy("occurred at"),
    "recorded_at": gettext_lazy("recorded at"), "payment_id": gettext_lazy("payment id"),
    "event_type": gettext_lazy("event type"), "event_id": gettext_lazy("event id"), "position": gettext_lazy("position"),
}


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _money(amount: Decimal) -> str:
    return format(amount, "f")


def statement_csv(statement: Statement) -> str:
    """The statement as CSV, byte-identical for the same `known_at`."""
    return csv_text(statement_sheets(statement))


def statement_document(statement: Statement) -> dict:
    """The statement as the JSON export carries it (and the offline verifier compares)."""
    return {
        "format": FORMAT,
        "organization_id": statement.organization_id,
        "from": _time(statement.since), "to": _time(statement.until), "known_at": _time(statement.known_at),
        "time_zone": statement.time_zone,
        "rules": RULES,
        "tree_head": statement.tree_head,
        "currencies": [{
            "currency": t.currency, "opening": _money(t.opening), "opening_events": t.opening_events,
            **{figure: _money(getattr(t, figure)) for figure in FIGURES.values()},
            "net": _money(t.net), "closing": _money(t.closing),
        } for t in statement.totals],
        "lines": [{
            "kind": line.figure, "currency": line.currency, "amount": _money(line.amount),
            "occurred_at": _time(line.occurred_at), "recorded_at": _time(line.recorded_at),
            "stream_id": line.payment_id, "event_type": line.event_type, "event_id": line.event_id,
            "ledger_index": line.ledger_index, "hash": line.hash,
        } for line in statement.lines],
    }


def statement_json(statement: Statement) -> str:
    return json.dumps(statement_document(statement), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def statement_file_stem(statement: Statement) -> str:
    """Named by the period's first and last local day (the organization's calendar) and the UTC instant
    it is known at."""
    zone = ZoneInfo(statement.time_zone)
    first, last = statement.since.astimezone(zone), statement.until.astimezone(zone) - timedelta(microseconds=1)
    return (f"statement-{statement.organization_id}-{first:%Y%m%d}-{last:%Y%m%d}"
            f"-known-{statement.known_at:%Y%m%dT%H%M%S%fZ}")


def statement_file_name(statement: Statement, extension: str = "csv") -> str:
    return f"{statement_file_stem(statement)}.{extension}"
