"""Whole-system consistency checks: what an operator runs after an incident (and the chaos run does).

- every command the API accepted has exactly the events it answered with, none twice; every refused
  one has none; no event exists that no accepted command explains (`check_commands`, from a ledger);
- every stream's versions run 1..n without a gap (`check_streams`);
- the hash chain, stream heads and seals hold (`verify_event_chain`);
- projections catch up (lag back to zero), and every payment summary equals a fold of its events
  (`check_summaries`).
"""

import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection

from eventstore import projections
from eventstore.integrity import verify_event_chain
from eventstore.models import Event
from payments.domain import AGGREGATE_TYPE, PaymentAggregate
from payments.models import PaymentSummary

ACCEPTED = "accepted"  # the API answered 201 (or 200, a replay) with the events written
REFUSED = "refused"  # a 4xx answer: nothing may have been written
UNANSWERED = "unanswered"  # the client gave up without a definite answer: not checked


@dataclass
class Check:
    name: str
    problems: list[str] = field(default_factory=list)
    figures: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: str, *, limit: int = 50) -> None:
        if len(self.problems) < limit:
            self.problems.append(problem)
        self.figures["problems"] = self.figures.get("problems", 0) + 1


def check_commands(ledger: list[dict]) -> Check:
    """Each ledger entry: {"key", "outcome", "event_ids" (when accepted)}; keys are causation ids."""
    check = Check("commands have exactly their events")
    written = defaultdict(list)
    for causation_id, event_id in Event.objects.filter(aggregate_type=AGGREGATE_TYPE).values_list(
        "metadata__causation_id", "event_id"
    ):
        written[causation_id].append(str(event_id))
    explained = set()
    for entry in ledger:
        key, outcome = entry["key"], entry["outcome"]
        events = written.get(key, [])
        explained.add(key)
        if outcome == ACCEPTED and sorted(events) != sorted(entry["event_ids"]):
            check.add(f"command {key}: answered with events {entry['event_ids']}, the store holds {events}")
        elif outcome == REFUSED and events:
            check.add(f"command {key} was refused but wrote {len(events)} event(s)")
    for key in written.keys() - explained:
        check.add(f"{len(written[key])} event(s) with causation id {key} belong to no command that was sent")
    check.figures["events"] = sum(len(events) for events in written.values())
    return check


def check_streams() -> Check:
    check = Check("every stream's versions are contiguous")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT stream_id, count(*), min(version), max(version), count(DISTINCT version)"
            " FROM eventstore_event GROUP BY stream_id"
            " HAVING min(version) <> 1 OR max(version) <> count(*) OR count(DISTINCT version) <> count(*)"
        )
        for stream_id, count, lowest, highest, distinct in cursor.fetchall():
            check.add(f"{stream_id}: {count} events, versions {lowest}..{highest}, {distinct} distinct")
        cursor.execute("SELECT count(DISTINCT stream_id) FROM eventstore_event")
        check.figures["streams"] = cursor.fetchone()[0]
    return check


def check_chain() -> Check:
    check = Check("verify_event_chain passes")
    report = verify_event_chain()
    for problem in report.problems:
        check.add(str(problem))
    check.figures["events"] = report.events_checked
    return check


def wait_for_projections(timeout: float) -> Check:
    """Wait until every projection is caught up (the worker's catch-up loop applies them)."""
    check = Check("projections catch up (lag back to zero)")
    started = time.monotonic()
    while True:
        behind = {lag.name: lag.events_behind for lag in projections.lag() if lag.events_behind}
        if not behind:
            check.figures["seconds_to_zero_lag"] = round(time.monotonic() - started, 1)
            return check
        if time.monotonic() - started > timeout:
            check.add(f"still behind after {timeout:.0f}s: {behind}")
            return check
        time.sleep(0.5)


def check_summaries() -> Check:
    """Every payment's summary row equals a fold of its events with the domain's rules."""
    check = Check("payment summaries equal a fold of the events")
    streams = defaultdict(list)
    for stream_id, event_type, data in Event.objects.filter(aggregate_type=AGGREGATE_TYPE).order_by(
        "stream_id", "version"
    ).values_list("stream_id", "event_type", "data").iterator(chunk_size=5000):
        streams[stream_id].append((event_type, data))
    rows = {row.payment_id: row for row in PaymentSummary.objects.all()}
    for payment_id, events in streams.items():
        folded = PaymentAggregate.from_events(payment_id, events)
        row = rows.pop(payment_id, None)
        if row is None:
            check.add(f"{payment_id}: no summary row")
            continue
        expected = (folded.version, str(folded.status), folded.amount, folded.refunded, folded.currency, folded.organization_id)
        actual = (row.version, row.status, row.amount, row.refunded, row.currency, row.organization_id)
        if expected != actual:
            check.add(f"{payment_id}: summary {actual} but the events fold to {expected}")
    for payment_id in rows:
        check.add(f"{payment_id}: a summary row without events")
    check.figures["payments"] = len(streams)
    return check


def run_all(ledger: list[dict] | None, *, projection_timeout: float = 120) -> list[Check]:
    checks = [check_commands(ledger)] if ledger is not None else []
    checks += [check_streams(), check_chain(), wait_for_projections(projection_timeout), check_summaries()]
    return checks
