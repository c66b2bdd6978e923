"""The projection engine: read models that follow the store and can be rebuilt from history.

A projection is a named handler over batches of events, with its own checkpoint. Its read-model
writes and its checkpoint commit in one transaction (`apply_pending`), so a crash neither applies
an event twice nor skips one; handlers are idempotent all the same. Events reach projections in
the store's commit-consistent order (`selectors.read_all`), which never skips a late commit.

A handler that raises stops its projection at that event: the error is recorded (ProjectionError)
and the event is retried on later runs, at most every RETRY_FAILED_AFTER; once it succeeds the
projection resumes. Other projections are unaffected.

`rebuild` replays the whole store into a copy of the projection's tables in the schema
`projection_rebuild`, then swaps contents in one transaction, so readers never see a half-built
table. An interrupted rebuild resumes from its own checkpoint. The copies are created by `migrate`
(`provision_rebuild_tables`), so the application role needs no DDL at run time.
"""

import logging
import traceback
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable, Iterable

from django.db import ProgrammingError, connection, connections, transaction
from django.db.models import Model
from django.utils import timezone

from config.app_modules import declared_by_apps
from eventstore import selectors
from eventstore.events import Checkpoint, RecordedEvent
from eventstore.models import Event, ProjectionCheckpoint, ProjectionError

logger = logging.getLogger(__name__)

REBUILD_SCHEMA = "projection_rebuild"
REBUILD_SUFFIX = "@rebuild"
RETRY_FAILED_AFTER = timedelta(seconds=5)
LAG_COUNT_LIMIT = 100_000  # lag() counts events behind up to this many


class RebuildTablesMissing(RuntimeError):
    """The rebuild copies are created by `migrate`; this database has not been migrated."""


class Projection:
    """Subclass with a `name`, the read-model `models` it owns, and `apply(events)`.

    `apply` receives events in commit order and must be idempotent (skip what it already holds).
    It writes through the ORM with unqualified table names, which is what lets `rebuild` redirect
    it to the copies in the rebuild schema.
    """

    name: str = ""
    models: tuple[type[Model], ...] = ()
    prompt: bool = True  # applied right after each command; False: left to the catch-up loop

    def apply(self, events: list[RecordedEvent]) -> None:
        raise NotImplementedError


def registered() -> dict[str, Projection]:
    """Every projection the installed apps declare in `<app>.projections.PROJECTIONS`."""
    return {projection.name: projection for projection in declared_by_apps("projections", "PROJECTIONS")}


@dataclass
class RunOutcome:
    applied: int = 0
    busy: bool = False
    failed_at: int | None = None  # position of the event it is stopped at


def _checkpoint_row(name: str, *, wait: bool) -> ProjectionCheckpoint | None:
    """The projection's checkpoint, locked for this transaction; None if another runner holds it."""
    rows = ProjectionCheckpoint.objects.select_for_update(skip_locked=not wait).filter(name=name)
    row = rows.first()
    if row is None and not ProjectionCheckpoint.objects.filter(name=name).exists():
        ProjectionCheckpoint.objects.bulk_create([ProjectionCheckpoint(name=name)], ignore_conflicts=True)
        row = rows.first()
    return row


def _advance(row: ProjectionCheckpoint, events: list[RecordedEvent]) -> None:
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
            row = _checkpoint_row(projection.name, wait=wait)
            if row is None:
                outcome.busy = True
                return outcome
            if row.failing_position is not None and timezone.now() - row.updated_at < RETRY_FAILED_AFTER:
                outcome.failed_at = row.failing_position
                return outcome
            events = selectors.read_all(Checkpoint(row.transaction_id, row.position), limit=batch_size)
            if not events:
                return outcome
            applied, failure = _apply_batch(projection, row, events)
            outcome.applied += applied
            row.save()
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
    _advance(row, events)
    _resolve_errors(projection.name, row)
    return len(events), None


def _apply_one_by_one(projection, row, events) -> tuple[int, int | None]:
    for index, event in enumerate(events):
        try:
            with transaction.atomic():
                projection.apply([event])
        except Exception as error:
            _record_error(projection.name, row, event, error)
            return index, event.position
        _advance(row, [event])
    _resolve_errors(projection.name, row)
    return len(events), None


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


def _resolve_errors(name: str, row: ProjectionCheckpoint) -> None:
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


@dataclass(frozen=True)
class Lag:
    name: str
    events_behind: int
    seconds_behind: float
    position: int
    events_applied: int
    failing_position: int | None


def lag(projection_names: Iterable[str] | None = None) -> list[Lag]:
    """Per projection: committed events not applied yet (up to LAG_COUNT_LIMIT), and the age of the
    oldest of them."""
    names = list(projection_names) if projection_names is not None else list(registered())
    rows = {row.name: row for row in ProjectionCheckpoint.objects.filter(name__in=names)}
    return [_lag_of(name, rows.get(name) or ProjectionCheckpoint(name=name)) for name in names]


def _lag_of(name: str, row: ProjectionCheckpoint) -> Lag:
    pending = Event.objects.filter(selectors.committed_after(Checkpoint(row.transaction_id, row.position)))
    oldest = pending.order_by("transaction_id", "position").values_list("recorded_at", flat=True).first()
    seconds = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    behind = pending.values("position")[:LAG_COUNT_LIMIT].count()  # bounded: a far-behind projection costs no more
    return Lag(name, behind, max(seconds, 0.0), row.position, row.events_applied, row.failing_position)


# Rebuilding ---------------------------------------------------------------------------------------

@dataclass
class RebuildProgress:
    name: str
    applied: int
    total: int
    swapped: bool = False


def _tables(projection: Projection) -> list[str]:
    return [model._meta.db_table for model in projection.models]


def provision_rebuild_tables(*, using: str = "default") -> None:
    """Create (after `migrate`) the rebuild copy of every projection table.

    A copy whose columns no longer match its live table is recreated, and the rebuild it held
    starts over.
    """
    db = connections[using]
    with transaction.atomic(using=using), db.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {REBUILD_SCHEMA}")
        for projection in registered().values():
            stale = [table for table in _tables(projection) if _columns(cursor, "public", table) != _columns(cursor, REBUILD_SCHEMA, table)]
            for table in stale:
                cursor.execute(f'DROP TABLE IF EXISTS {REBUILD_SCHEMA}."{table}"')
                cursor.execute(f'CREATE TABLE {REBUILD_SCHEMA}."{table}" (LIKE public."{table}" INCLUDING ALL)')
            if stale:
                ProjectionCheckpoint.objects.using(using).filter(name=projection.name + REBUILD_SUFFIX).delete()


def _columns(cursor, schema: str, table: str) -> list[tuple]:
    cursor.execute(
        "SELECT column_name, data_type, character_maximum_length, numeric_precision, numeric_scale, is_nullable"
        " FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        [schema, table],
    )
    return cursor.fetchall()


def _prepare_shadow(projection: Projection, *, restart: bool) -> ProjectionCheckpoint:
    """The rebuild's checkpoint; a rebuild that starts over (or anew) starts from empty copies."""
    name = projection.name + REBUILD_SUFFIX
    with transaction.atomic():
        if restart:
            ProjectionCheckpoint.objects.filter(name=name).delete()
        row, created = ProjectionCheckpoint.objects.get_or_create(name=name)
        if created:
            _empty_rebuild_tables(projection)
    return row


def _empty_rebuild_tables(projection: Projection) -> None:
    tables = ", ".join(f'{REBUILD_SCHEMA}."{table}"' for table in _tables(projection))
    with connection.cursor() as cursor:
        try:
            cursor.execute(f"TRUNCATE {tables}")
        except ProgrammingError as error:
            raise RebuildTablesMissing(
                f"The rebuild copies of {projection.name!r} are missing; run `manage.py migrate` ({error})."
            ) from error


def _use_rebuild_tables(cursor) -> None:
    cursor.execute(f"SET LOCAL search_path TO {REBUILD_SCHEMA}, public")


def _rebuild_batch(projection: Projection, batch_size: int) -> int:
    """Apply one batch to the rebuild copies; 0 once they have caught up."""
    with transaction.atomic():
        row = ProjectionCheckpoint.objects.select_for_update().get(name=projection.name + REBUILD_SUFFIX)
        events = selectors.read_all(Checkpoint(row.transaction_id, row.position), limit=batch_size)
        if not events:
            return 0
        with connection.cursor() as cursor:
            _use_rebuild_tables(cursor)
        projection.apply(events)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL search_path TO DEFAULT")
        _advance(row, events)
        row.save()
    return len(events)


def rebuild(
    projection: Projection,
    *,
    batch_size: int = 5000,
    restart: bool = False,
    on_progress: Callable[[RebuildProgress], None] | None = None,
) -> RebuildProgress:
    """Replay every event into copies of the projection's tables, then swap them in atomically.

    Safe to interrupt: a later call resumes where this one stopped (`restart` starts over).
    """
    row = _prepare_shadow(projection, restart=restart)
    progress = RebuildProgress(projection.name, row.events_applied, row.events_applied + _count_after(row))
    while applied := _rebuild_batch(projection, batch_size):
        progress.applied += applied
        progress.total = max(progress.total, progress.applied)
        if on_progress is not None:
            on_progress(progress)
    _swap(projection, batch_size)
    progress.swapped = True
    if on_progress is not None:
        on_progress(progress)
    return progress


def _count_after(row: ProjectionCheckpoint) -> int:
    return Event.objects.filter(selectors.committed_after(Checkpoint(row.transaction_id, row.position))).count()


def _swap(projection: Projection, batch_size: int) -> None:
    """Catch the copies up under the live checkpoint's lock and replace the live contents in one go."""
    rebuild_name = projection.name + REBUILD_SUFFIX
    with transaction.atomic():
        live = _checkpoint_row(projection.name, wait=True)
        while _rebuild_batch(projection, batch_size):
            pass
        shadow = ProjectionCheckpoint.objects.get(name=rebuild_name)
        with connection.cursor() as cursor:
            for table in _tables(projection):
                cursor.execute(f'DELETE FROM public."{table}"')
                cursor.execute(f'INSERT INTO public."{table}" SELECT * FROM {REBUILD_SCHEMA}."{table}"')
        for field in ("transaction_id", "position", "events_applied", "last_recorded_at"):
            setattr(live, field, getattr(shadow, field))
        _resolve_errors(projection.name, live)
        live.save()
        shadow.delete()
        _empty_rebuild_tables(projection)
    logger.info("Projection %s rebuilt from %s events and swapped in", projection.name, live.events_applied)
