"""Whole-system consistency checks (`manage.py check_consistency`): what an operator runs after an
incident (and the chaos run does).

The store's own checks (`eventstore.integrity.verification`) plus the payments' ones:
- every command the API accepted has exactly the events it answered with, none twice; every refused
  one has none; no event exists that no accepted command explains (`check_commands`, from a ledger);
- every stream's versions run 1..n without a gap (`check_streams`);
- the hash chain, stream heads and seals hold (`verify_event_chain`);
- projections catch up (lag back to zero), and every payment summary equals a fold of its events
  (`check_summaries`).
"""

from collections import defaultdict

from eventstore.integrity.verification import Check, check_chain, check_projections_caught_up, check_streams
from eventstore.models import Event
from eventstore.selectors import events_by_aggregate_type
from payments.domain import AGGREGATE_TYPE, PaymentAggregate
from payments.models import PaymentSummary

ACCEPTED = "accepted"  # the API answered 201 (or 200, a replay) with the events written
REFUSED = "refused"  # a 4xx answer: nothing may have been written
UNANSWERED = "unanswered"  # the client gave up without a definite answer: not checked


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


def check_summaries() -> Check:
    """Every payment's summary row equals a fold of its events with the domain's rules."""
    check = Check("payment summaries equal a fold of the events")
    streams = defaultdict(list)
    for event in events_by_aggregate_type(AGGREGATE_TYPE, page_size=5000):  # as read: personal fields opened
        streams[event.stream_id].append((event.event_type, event.data))
    rows = {row.payment_id: row for row in PaymentSummary.objects.all()}
    for payment_id, events in streams.items():
        folded = PaymentAggregate.from_events(payment_id, events)
        row = rows.pop(payment_id, None)
        if row is None:
            check.add(f"{payment_id}: no summary row")
            continue
        expected = (folded.version, str(folded.status), folded.amount, folded.refunded, folded.currency,
                    folded.organization_id, folded.occurred_at)
        actual = (row.version, row.status, row.amount, row.refunded, row.currency, row.organization_id, row.occurred_at)
        if expected != actual:
            check.add(f"{payment_id}: summary {actual} but the events fold to {expected}")
    for payment_id in rows:
        check.add(f"{payment_id}: a summary row without events")
    check.figures["payments"] = len(streams)
    return check


def run_all(ledger: list[dict] | None, *, projection_timeout: float = 120) -> list[Check]:
    checks = [check_commands(ledger)] if ledger is not None else []
    checks += [check_streams(), check_chain(), check_projections_caught_up(projection_timeout), check_summaries()]
    return checks
