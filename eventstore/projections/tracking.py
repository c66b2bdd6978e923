"""Tracking records: a consumer inside the project writes its own rows and its progress in one transaction.

A `Tracking` row per consumer and upstream place (commit-consistent order), unique: the same events'
effects can commit only once, however often a runner is killed and restarted or runs beside another
(`consume` does it all). The projection engine records each batch it applies the same way.
"""

from dataclasses import dataclass
from typing import Callable

from django.db import IntegrityError, connection, transaction

from eventstore import selectors
from eventstore.errors import EventStoreError
from eventstore.events import START, Checkpoint, RecordedEvent
from eventstore.projections.models import Tracking


class AlreadyTracked(EventStoreError):
    """Another runner already recorded this consumer's progress past these events."""


def tracked(consumer: str) -> Checkpoint:
    """Where `consumer` has recorded that it stands; START before its first record."""
    last = (Tracking.objects.filter(consumer=consumer).order_by("-transaction_id", "-position")
            .values_list("transaction_id", "position").first())
    return Checkpoint(*last) if last else START


def track(consumer: str, *, read_from: Checkpoint, to: Checkpoint) -> None:
    """Record, in the caller's transaction, that `consumer` has processed everything up to `to`.

    Raises AlreadyTracked (and the caller's transaction must roll back) when a record of `to`
    exists, or the consumer has moved past `read_from`: another runner committed these events'
    effects first. (Runners of one consumer take turns here: a lock held to the end of the
    transaction.) Records before `read_from` are no longer needed and are removed.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 17))", [f"tracking:{consumer}"])
    if _place(tracked(consumer)) > _place(read_from):
        raise AlreadyTracked(f"{consumer} has moved past position {read_from.position} meanwhile.")
    try:
        with transaction.atomic():
            Tracking.objects.create(consumer=consumer, transaction_id=to.transaction_id, position=to.position)
    except IntegrityError:
        raise AlreadyTracked(f"{consumer} has already recorded position {to.position}.") from None
    Tracking.objects.filter(consumer=consumer, transaction_id__lt=read_from.transaction_id).delete()


def track_in_turn(consumer: str, to: Checkpoint) -> None:
    """`track` for a consumer whose runners already take turns under a lock of their own held to the
    end of the transaction (a projection's checkpoint row), whose place that lock's row holds: its
    earlier records, or later ones left from before an operator moved it back, give way to `to`.
    Two statements where `track` needs six; the unique record still refuses a place recorded twice."""
    Tracking.objects.filter(consumer=consumer).delete()
    Tracking.objects.create(consumer=consumer, transaction_id=to.transaction_id, position=to.position)


@dataclass
class Consumed:
    applied: int = 0
    checkpoint: Checkpoint = START


def consume(consumer: str, handler: Callable[[list[RecordedEvent]], None], *,
            matching: selectors.EventFilter = selectors.EventFilter(), batch_size: int = 100) -> Consumed:
    """Process every pending event in batches: each batch's `handler` writes and its tracking record
    commit together, or neither does. Killed anywhere, a consumer resumes exactly after the last
    batch that committed."""
    outcome = Consumed(checkpoint=tracked(consumer))
    while True:
        page = selectors.read_matching(outcome.checkpoint, matching, limit=batch_size)
        if page.checkpoint == outcome.checkpoint:
            return outcome
        with transaction.atomic():
            if page.events:
                handler(page.events)
            track(consumer, read_from=outcome.checkpoint, to=page.checkpoint)
        outcome.applied += len(page.events)
        outcome.checkpoint = page.checkpoint


def _place(checkpoint: Checkpoint) -> tuple[int, int]:
    return checkpoint.transaction_id, checkpoint.position
