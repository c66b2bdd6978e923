"""The projection engine: read models that follow the store in commit order.

A projection is a named handler over batches of events, with its own checkpoint. Its read-model
writes, its checkpoint and a tracking record of the batch (`eventstore.projections.tracking`) commit in one
transaction (`apply_pending`), so a crash neither applies an event twice nor skips one; handlers are
idempotent all the same. Events reach projections in
the store's commit-consistent order (`selectors.read_all`), which never skips a late commit.

A handler that raises stops its projection at that event: the error is recorded (ProjectionError)
and the event is retried on later runs, at most every RETRY_FAILED_AFTER; once it succeeds the
projection resumes. Other projections are unaffected. An event no fix will make applicable can be
set aside by an operator (`projection_set_aside`): when it fails again, the projection passes over
it, lets the projection mark what its read models lose (`Projection.set_aside`), and goes on.

Apps declare their projections through `eventstore.registry`; lag monitoring lives in
`projection_lag`, rebuilding from history in `projection_rebuild`.
"""

import functools
import logging
import traceback
from dataclasses import dataclass
from datetime import timedelta

import psycopg
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from eventstore import registry, selectors
from eventstore.events import Checkpoint, RecordedEvent
from eventstore.projections import tracking
from eventstore.projections.models import ProjectionCheckpoint, ProjectionError, SetAsideEvent

logger = logging.getLogger(__name__)

RETRY_FAILED_AFTER = timedelta(seconds=5)


class Projection:
    """Subclass with a `name`, the read-model `models` it owns, and `apply(events)`.

    `apply` receives events in commit order and must be idempotent (skip what it already holds).
    It writes through the ORM (or `upsert`) with unqualified table names, which lets a rebuild redirect
    it to the copies in the rebuild schema.
    """

    name: str = ""
    models: tuple[type[Model], ...] = ()
    prompt: bool = True  # applied right after each command; False: left to the catch-up loop

    def apply(self, events: list[RecordedEvent]) -> None:
        raise NotImplementedError

    def apply_appended(self, events: list[RecordedEvent]) -> bool:
        """Apply one stream's events inside the append's own transaction, as they are written, when
        that is safe; False leaves them to the commit-ordered engine (the default). Safe for rows
        keyed by stream that already hold the stream up to the version before these events (a
        stream's appends are serialized by its lock, so none can come in between); the engine's
        later pass over the same events then changes nothing."""
        return False

    def set_aside(self, event: RecordedEvent) -> None:
        """Called instead of `apply` for an event an operator set aside: mark the read-model rows
        that lack it as incomplete. Idempotent, like `apply`."""


def upsert(model: type[Model], rows: list[Model], *, key: str, fields: list[str]) -> None:
    """Insert `rows`, or update their `fields` where a row of the same unique `key` is stored: what
    `bulk_create(update_conflicts=True)` does, in one statement over one array per column bound on
    the server (in binary), instead of SQL compiled and quoted on the client from every value. The
    values go as the rows hold them, in the fields' Python types; the table name is unqualified, so a
    rebuild's search_path sends the rows to its copies."""
    if not rows:
        return
    columns = model._meta.concrete_fields
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(_upsert_sql(model, key, tuple(fields)),
                       [[getattr(row, column.attname) for row in rows] for column in columns])


@functools.cache
def _upsert_sql(model: type[Model], key: str, fields: tuple[str, ...]) -> str:
    """The upsert statement of `upsert`, built once per model and fields (prompt projections run it
    with every append)."""
    quote, meta = connection.ops.quote_name, model._meta
    columns = meta.concrete_fields
    names = [quote(column.column) for column in columns]
    arrays = [f"%b::{column.db_type(connection)}[]" for column in columns]
    updates = [f"{name} = EXCLUDED.{name}" for name in (quote(meta.get_field(field).column) for field in fields)]
    return (f"INSERT INTO {quote(meta.db_table)} ({', '.join(names)}) SELECT * FROM unnest({', '.join(arrays)})"
            f" ON CONFLICT ({quote(meta.get_field(key).column)}) DO UPDATE SET {', '.join(updates)}")


def registered() -> dict[str, Projection]:
    """Every projection the installed apps declare, by name."""
    return registry.projections()


@dataclass
class RunOutcome:
    applied: int = 0
    busy: bool = False
    failed_at: int | None = None  # position of the event it is stopped at
    checkpoint: Checkpoint | None = None  # where the projection stands afterwards; None when busy

    def has_applied(self, event: Checkpoint) -> bool:
        """Whether the projection is known to stand at or past `event`."""
        if self.checkpoint is None:
            return False
        return (self.checkpoint.transaction_id, self.checkpoint.position) >= (event.transaction_id, event.position)


def prompt_projection_names() -> list[str]:
    return sorted(name for name, projection in registered().items() if projection.prompt)


def apply_with_append(events: list[RecordedEvent]) -> list[str]:
    """Apply a stream's just-appended events, in the append's transaction, to the prompt projections
    that allow it; each in a savepoint, so a handler that raises leaves the append intact and its
    events to the catch-up loop (which records the error). Returns the prompt projections that are
    not past the events yet."""
    pending = []
    for name, projection in registered().items():
        if not projection.prompt:
            continue
        if not _applied_in_savepoint(projection, events):
            pending.append(name)
    return sorted(pending)


def _applied_in_savepoint(projection: Projection, events: list[RecordedEvent]) -> bool:
    try:
        with transaction.atomic():
            return projection.apply_appended(events)
    except Exception:
        if connection.needs_rollback:  # the savepoint could not be rolled back: the append is lost with it
            raise
        logger.warning("Projection %s could not apply %s with its append; the catch-up loop will",
                       projection.name, events[0].stream_id, exc_info=True)
        return False


def checkpoint_row(name: str, *, wait: bool) -> ProjectionCheckpoint | None:
    """The projection's checkpoint, locked for this transaction; None if another runner holds it."""
    rows = ProjectionCheckpoint.objects.select_for_update(skip_locked=not wait).filter(name=name)
    row = rows.first()
    if row is None and not ProjectionCheckpoint.objects.filter(name=name).exists():
        ProjectionCheckpoint.objects.bulk_create([ProjectionCheckpoint(name=name)], ignore_conflicts=True)
        row = rows.first()
    return row


def advance(row: ProjectionCheckpoint, events: list[RecordedEvent]) -> None:
    last = events[-1]
    row.transaction_id, row.position = last.transaction_id, last.position
    row.events_applied += len(events)
    row.last_recorded_at = last.recorded_at


def apply_pending(
    projection: Projection, *, batch_size: int = 1000, max_batches: int | None = None, wait: bool = False
) -> RunOutcome:
    """Apply committed events the projection has not seen, one transaction per batch.

    Another runner holding the projection makes this return `busy` at once (unless `wait`): that
    runner, or the catch-up loop, applies what is pending.
    """
    outcome, batches = RunOutcome(), 0
    while max_batches is None or batches < max_batches:
        batches += 1
        with transaction.atomic():
            row = checkpoint_row(projection.name, wait=wait)
            if row is None:
                outcome.busy = True
                return outcome
            outcome.checkpoint = Checkpoint(row.transaction_id, row.position)
            if row.failing_position is not None and timezone.now() - row.updated_at < RETRY_FAILED_AFTER:
                outcome.failed_at = row.failing_position
                return outcome
            events = selectors.read_all(outcome.checkpoint, limit=batch_size)
            if not events:
                return outcome
            applied, failure = _apply_batch(projection, row, events)
            outcome.applied += applied
            row.save()
            read_from, outcome.checkpoint = outcome.checkpoint, Checkpoint(row.transaction_id, row.position)
            if outcome.checkpoint != read_from:
                # The locked row is the authority: an operator may have moved it back to apply events again.
                tracking.track_in_turn(projection.name, outcome.checkpoint)
        if failure is not None:
            outcome.failed_at = failure
            return outcome
        if len(events) < batch_size:
            return outcome
    return outcome


def _apply_batch(projection: Projection, row: ProjectionCheckpoint, events: list[RecordedEvent]) -> tuple[int, int | None]:
    """Apply a batch in a savepoint; on failure, apply event by event up to the one that fails."""
    try:
        with transaction.atomic():
            projection.apply(events)
    except Exception:
        return _apply_one_by_one(projection, row, events)
    advance(row, events)
    resolve_errors(projection.name, row)
    return len(events), None


def _apply_one_by_one(projection, row, events) -> tuple[int, int | None]:
    applied = 0
    for event in events:
        try:
            applied += apply_or_pass_over(projection, event)
        except Exception as error:
            _record_error(projection.name, row, event, error)
            return applied, event.position
        advance(row, [event])
    resolve_errors(projection.name, row)
    return applied, None


def apply_or_pass_over(projection: Projection, event: RecordedEvent) -> bool:
    """Apply one event in a savepoint (True); if it raises and an operator set it aside for this
    projection, let the projection mark what it loses instead (False); otherwise re-raise."""
    try:
        with transaction.atomic():
            projection.apply([event])
        return True
    except Exception:
        if not SetAsideEvent.objects.filter(projection=projection.name, position=event.position).exists():
            raise
    with transaction.atomic():
        projection.set_aside(event)
    logger.warning("Projection %s passed over %s v%s (%s), which was set aside", projection.name, event.stream_id,
                   event.version, event.event_type)
    return False


def _record_error(name: str, row: ProjectionCheckpoint, event: RecordedEvent, error: Exception) -> None:
    logger.error("Projection %s stopped at %s v%s (%s): %s", name, event.stream_id, event.version, event.event_type, error)
    details = dict(event_id=event.event_id, stream_id=event.stream_id, event_type=event.event_type,
                   message=f"{type(error).__name__}: {error}", traceback=traceback.format_exc(), resolved_at=None)
    existing = ProjectionError.objects.filter(projection=name, position=event.position).first()
    if existing is None:
        ProjectionError.objects.create(projection=name, position=event.position, **details)
    else:
        for field, value in details.items():
            setattr(existing, field, value)
        existing.attempts += 1
        existing.save()
    row.failing_position = event.position


def resolve_errors(name: str, row: ProjectionCheckpoint) -> None:
    if row.failing_position is None:
        return
    ProjectionError.objects.filter(projection=name, resolved_at__isnull=True).update(resolved_at=timezone.now())
    logger.info("Projection %s resumed past position %s", name, row.failing_position)
    row.failing_position = None


def apply_all_pending(
    *, batch_size: int = 1000, max_batches: int | None = None, prompt_only: bool = False
) -> dict[str, RunOutcome]:
    """Every registered projection (or only those readers expect right after a command)."""
    return {
        name: apply_pending(projection, batch_size=batch_size, max_batches=max_batches)
        for name, projection in registered().items()
        if projection.prompt or not prompt_only
    }
