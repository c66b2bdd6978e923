"""Rebuilding a projection from history beside the live read model, swapped in atomically.

`rebuild` replays the whole store into a copy of the projection's tables in the schema
`projection_rebuild`, then swaps contents in one transaction, so readers never see a half-built
table. An interrupted rebuild resumes from its own checkpoint. The copies are created by `migrate`
(`provision_rebuild_tables`), so the application role needs no DDL at run time.
"""

import logging
from dataclasses import dataclass
from typing import Callable

from django.db import ProgrammingError, connection, connections, transaction

from eventstore import selectors
from eventstore.events import Checkpoint
from eventstore.models import Event
from eventstore.projections.engine import (
    Projection,
    advance,
    apply_or_pass_over,
    checkpoint_row,
    registered,
    resolve_errors,
)
from eventstore.projections.models import ProjectionCheckpoint

logger = logging.getLogger(__name__)

REBUILD_SCHEMA = "projection_rebuild"
REBUILD_SUFFIX = "@rebuild"


class RebuildTablesMissing(RuntimeError):
    """The rebuild copies are created by `migrate`; this database has not been migrated."""


@dataclass
class RebuildProgress:
    name: str
    applied: int
    total: int
    swapped: bool = False


def _tables(projection: Projection) -> list[str]:
    return [model._meta.db_table for model in projection.models]


def provision_rebuild_tables(*, using: str = "default") -> None:
    """Create (after `migrate`) the rebuild copy of every projection table, with the live table's
    unique indexes only.

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
            for table in _tables(projection):
                _drop_secondary_indexes(cursor, table)
            if stale:
                ProjectionCheckpoint.objects.using(using).filter(name=projection.name + REBUILD_SUFFIX).delete()


def _drop_secondary_indexes(cursor, table: str) -> None:
    """A copy is written batch by batch, read only by key (the projection's look-ups and upserts go
    through unique indexes) and copied whole into the live table at the swap, which maintains the
    live indexes: its other indexes would be kept up to date for nobody."""
    cursor.execute(
        "SELECT index.indexrelid::regclass::text FROM pg_index AS index"
        " WHERE index.indrelid = %s::regclass AND NOT index.indisunique",
        [f'{REBUILD_SCHEMA}."{table}"'],
    )
    for (index,) in cursor.fetchall():
        cursor.execute(f"DROP INDEX {index}")


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
        try:
            with transaction.atomic():
                projection.apply(events)
        except Exception:  # one by one, passing over the events set aside; any other failure stops the rebuild
            for event in events:
                apply_or_pass_over(projection, event)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL search_path TO DEFAULT")
        advance(row, events)
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
        live = checkpoint_row(projection.name, wait=True)
        while _rebuild_batch(projection, batch_size):
            pass
        shadow = ProjectionCheckpoint.objects.get(name=rebuild_name)
        with connection.cursor() as cursor:
            for table in _tables(projection):
                cursor.execute(f'DELETE FROM public."{table}"')
                cursor.execute(f'INSERT INTO public."{table}" SELECT * FROM {REBUILD_SCHEMA}."{table}"')
        for field in ("transaction_id", "position", "events_applied", "last_recorded_at"):
            setattr(live, field, getattr(shadow, field))
        resolve_errors(projection.name, live)
        live.save()
        shadow.delete()
        _empty_rebuild_tables(projection)
    logger.info("Projection %s rebuilt from %s events and swapped in", projection.name, live.events_applied)
