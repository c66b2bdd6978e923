"""The event store's Temporal activities: sync functions over the Django ORM, run in a thread pool.

Store errors become non-retryable application errors carrying their type name, so a conflict or
bad input fails fast with a clear message instead of being retried.
"""

import functools
from datetime import datetime
from itertools import islice

from temporalio import activity
from temporalio.exceptions import ApplicationError

from config.temporal import django_activity
from eventstore import selectors
from eventstore.errors import EventStoreError
from eventstore.events import ExpectedVersion, NewEvent, RecordedEvent
from eventstore.messages import (
    AppendOutcome,
    AppendRequest,
    EventPage,
    EventsByTypeRequest,
    ReadStreamRequest,
    StoredEvent,
)
from eventstore.store import append_events


def store_errors_are_final(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except EventStoreError as error:
            raise ApplicationError(str(error), type=type(error).__name__, non_retryable=True) from error

    return wrapper


def to_message(event: RecordedEvent) -> StoredEvent:
    return StoredEvent(
        position=event.position,
        event_id=str(event.event_id),
        stream_id=event.stream_id,
        aggregate_type=event.aggregate_type,
        version=event.version,
        event_type=event.event_type,
        data=event.data,
        metadata=event.metadata,
        recorded_at=event.recorded_at.isoformat(),
        hash=event.hash,
    )


def parse_expected_version(text: str) -> int | ExpectedVersion:
    try:
        return ExpectedVersion(text)
    except ValueError:
        pass
    try:
        return int(text)
    except ValueError:
        raise ApplicationError(
            f"expected_version {text!r} is not any, no_stream, stream_exists or a number.",
            type="InvalidEvent",
            non_retryable=True,
        ) from None


@activity.defn(name="eventstore.append_events")
@django_activity
@store_errors_are_final
def append_events_activity(request: AppendRequest) -> AppendOutcome:
    result = append_events(
        stream_id=request.stream_id,
        aggregate_type=request.aggregate_type,
        events=[NewEvent(e.event_type, e.data, e.metadata, e.event_id) for e in request.events],
        expected_version=parse_expected_version(request.expected_version),
    )
    return AppendOutcome(
        stream_id=result.stream_id,
        version=result.version,
        events=[to_message(event) for event in result.events],
        already_stored=result.already_stored,
    )


def _page(events, limit: int) -> EventPage:
    taken = list(islice(events, limit + 1))
    return EventPage(events=[to_message(event) for event in taken[:limit]], has_more=len(taken) > limit)


@activity.defn(name="eventstore.get_events")
@django_activity
@store_errors_are_final
def get_events_activity(request: ReadStreamRequest) -> EventPage:
    events = selectors.read_stream(
        request.stream_id, from_version=request.from_version, to_version=request.to_version,
        page_size=request.limit + 1,
    )
    return _page(events, request.limit)


@activity.defn(name="eventstore.get_events_by_type")
@django_activity
@store_errors_are_final
def get_events_by_type_activity(request: EventsByTypeRequest) -> EventPage:
    events = selectors.events_by_type(
        request.event_type,
        since=_parse_time(request.since),
        until=_parse_time(request.until),
        after_position=request.after_position,
        page_size=request.limit + 1,
    )
    return _page(events, request.limit)


def _parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ApplicationError(f"Time {text!r} has no time zone; send ISO 8601 with an offset.", non_retryable=True)
    return moment


ACTIVITIES = [append_events_activity, get_events_activity, get_events_by_type_activity]
