"""Aggregate snapshots: states at a version, stored apart from the events and disposable.

Loading an aggregate takes the newest snapshot at or below the wanted version (or time) and folds
only the events after it. Deleting every snapshot changes nothing but speed.
"""

import json
from dataclasses import dataclass
from datetime import datetime

from eventstore.projections.models import Snapshot
from eventstore.selectors import fetch_rows

_LATEST = (
    "SELECT stream_id, version, state, schema_version FROM eventstore_snapshot"
    " WHERE stream_id = %s AND schema_version = %s"
    " AND (%s::integer IS NULL OR version <= %s::integer)"
    " AND (%s::timestamptz IS NULL OR recorded_at <= %s::timestamptz)"
    " ORDER BY version DESC LIMIT 1"
)


@dataclass(frozen=True)
class StoredSnapshot:
    stream_id: str
    version: int
    state: dict
    schema_version: int


def save_snapshot(
    *, stream_id: str, version: int, aggregate_type: str, state: dict, position: int, recorded_at: datetime,
    schema_version: int = 1,
) -> None:
    """Store a state at `version`; a snapshot already there is kept (they are equal by construction)."""
    Snapshot.objects.bulk_create(
        [Snapshot(stream_id=stream_id, version=version, aggregate_type=aggregate_type, state=state,
                  position=position, recorded_at=recorded_at, schema_version=schema_version)],
        ignore_conflicts=True,
    )


def latest_snapshot(
    stream_id: str, *, schema_version: int, at_or_below: int | None = None, recorded_by: datetime | None = None
) -> StoredSnapshot | None:
    """The newest usable snapshot of a stream, optionally no later than a version or a time. Fixed
    SQL (every command's load asks it): no ORM query compiled per call."""
    rows = fetch_rows(_LATEST, [stream_id, schema_version, at_or_below, at_or_below, recorded_by, recorded_by])
    if not rows:
        return None
    stream, version, state, schema = rows[0]
    return StoredSnapshot(stream, version, json.loads(state), schema)


def drop_snapshots(stream_id: str | None = None) -> int:
    snapshots = Snapshot.objects.all() if stream_id is None else Snapshot.objects.filter(stream_id=stream_id)
    return snapshots.delete()[0]
