"""Aggregate snapshots: states at a version, stored apart from the events and disposable.

Loading an aggregate takes the newest snapshot at or below the wanted version (or time) and folds
only the events after it. Deleting every snapshot changes nothing but speed.
"""

from dataclasses import dataclass
from datetime import datetime

from eventstore.models import Snapshot


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
    """The newest usable snapshot of a stream, optionally no later than a version or a time."""
    snapshots = Snapshot.objects.filter(stream_id=stream_id, schema_version=schema_version)
    if at_or_below is not None:
        snapshots = snapshots.filter(version__lte=at_or_below)
    if recorded_by is not None:
        snapshots = snapshots.filter(recorded_at__lte=recorded_by)
    row = snapshots.order_by("-version").values_list("stream_id", "version", "state", "schema_version").first()
    return StoredSnapshot(*row) if row else None


def drop_snapshots(stream_id: str | None = None) -> int:
    snapshots = Snapshot.objects.all() if stream_id is None else Snapshot.objects.filter(stream_id=stream_id)
    return snapshots.delete()[0]
