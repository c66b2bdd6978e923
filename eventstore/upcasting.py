"""Upcasting: events written under an older schema are read as the current one.

Stored rows never change (history is append-only and hash-chained): every read of an event passes
its data through the steps apps declared (`registry.Upcaster`), one per schema version, from the
`schema_version` in its metadata (none means 1) to the newest. In `metadata`, an event stored
before the server stamped actors reads with `actor` UNKNOWN (`eventstore.actors`); nothing else
changes. `recorded_at` and the hashes are those of the stored event, so the chain still verifies.
"""

import dataclasses
from datetime import datetime

from eventstore import registry
from eventstore.actors import UNKNOWN
from eventstore.events import RecordedEvent


def stored_schema_version(metadata: dict) -> int:
    version = metadata.get("schema_version", 1) if isinstance(metadata, dict) else 1
    return version if isinstance(version, int) and not isinstance(version, bool) else 1


def upcast_data(event_type: str, metadata: dict, data: dict, recorded_at: datetime) -> dict:
    """The event's data as its newest declared schema version reads it."""
    version = stored_schema_version(metadata)
    while isinstance(data, dict) and (step := registry.upcaster(event_type, version)) is not None:
        data, version = step.upcast(data, recorded_at), version + 1
    return data


_UNKNOWN_ACTOR = UNKNOWN.to_dict()


def upcast_metadata(metadata: dict) -> dict:
    """The event's metadata as read: with the actor UNKNOWN when it was stored without one."""
    if not isinstance(metadata, dict) or "actor" in metadata:
        return metadata
    return {**metadata, "actor": dict(_UNKNOWN_ACTOR)}


def upcast(event: RecordedEvent) -> RecordedEvent:
    data = upcast_data(event.event_type, event.metadata, event.data, event.recorded_at)
    metadata = upcast_metadata(event.metadata)
    if data is event.data and metadata is event.metadata:
        return event
    return dataclasses.replace(event, data=data, metadata=metadata)
