"""How payment events written under older schema versions are read today (eventstore.upcasting).

Version 1 had no business time: such an event is read as having occurred when it was recorded.
"""

from eventstore.registry import Upcaster
from payments.domain import EventType, business_time_text


def occurred_when_recorded(data: dict, recorded_at) -> dict:
    return {**data, "occurred_at": data.get("occurred_at") or business_time_text(recorded_at)}


UPCASTERS = [Upcaster(str(event_type), 1, occurred_when_recorded) for event_type in EventType]
