"""Checking events against the JSON Schemas their app declared (`registry.EventSchemas`).

An aggregate type with declared schemas accepts only its declared event types, each with data and
metadata that match; `store.append_events` checks every event before anything is written and turns
a mismatch into InvalidEvent. Aggregate types that declare nothing are not checked.

The validator is `jsonschema-rs` (draft 2020-12), compiled once per declared schema: it checks an
event in microseconds, so the check costs appends next to nothing.
"""

from dataclasses import dataclass

import jsonschema_rs

from eventstore import registry
from eventstore.errors import InvalidEvent

SHOWN_VALUE_LENGTH = 60
DESCRIBED_KEYWORDS = {"pattern", "not", "enum", "anyOf", "oneOf"}  # answered with the schema's description


@dataclass(frozen=True)
class _Compiled:
    declared: registry.EventSchemas
    data: dict[str, tuple[dict, jsonschema_rs.Draft202012Validator]]
    metadata: tuple[dict, jsonschema_rs.Draft202012Validator]


_compiled: dict[str, _Compiled] = {}


def check_event(aggregate_type: str, event_type: str, data: dict, metadata: dict, *, label: str) -> None:
    """Raise InvalidEvent (its message starts with `label`) if the event does not match the schemas
    declared for `aggregate_type`; do nothing if there are none."""
    compiled = _validators(aggregate_type)
    if compiled is None:
        return
    checks = compiled.data.get(event_type)
    if checks is None:
        known = ", ".join(compiled.data)
        raise InvalidEvent(f"{label}: {aggregate_type} events are of the types {known}; "
                           f"{event_type!r} is not one of them.")
    for name, value, (schema, validator) in (("data", data, checks), ("metadata", metadata, compiled.metadata)):
        if not validator.is_valid(value):
            error = max(validator.iter_errors(value), key=_specificity)
            raise InvalidEvent(f"{label} ({event_type}) {name}{_where(error)}: {_message(error, schema)}")


def _validators(aggregate_type: str) -> _Compiled | None:
    declared = registry.event_schemas().get(aggregate_type)
    if declared is None:
        return None
    compiled = _compiled.get(aggregate_type)
    if compiled is None or compiled.declared is not declared:
        compiled = _Compiled(declared, {event_type: _validator(schema) for event_type, schema in declared.data.items()},
                             _validator(declared.metadata))
        _compiled[aggregate_type] = compiled
    return compiled


def _validator(schema: dict) -> tuple[dict, jsonschema_rs.Draft202012Validator]:
    jsonschema_rs.meta.validate(schema)  # a mistake in a declared schema shows at once
    return schema, jsonschema_rs.Draft202012Validator(schema)


def _specificity(error: jsonschema_rs.ValidationError) -> tuple:
    """The error that says most: one about a field before one about the whole object."""
    return _keyword(error) not in ("anyOf", "oneOf"), len(error.instance_path)


def _keyword(error: jsonschema_rs.ValidationError) -> str:
    return str(error.schema_path[-1]) if error.schema_path else ""


def _where(error: jsonschema_rs.ValidationError) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.instance_path)


def _message(error: jsonschema_rs.ValidationError, schema: dict) -> str:
    """The schema's own description of what is expected where it has one, else the validator's
    message; a value is shown shortened."""
    description = _node(schema, error.schema_path[:-1]).get("description")
    if _keyword(error) in DESCRIBED_KEYWORDS and description:
        if error.instance_path:
            return f"{_shortened(repr(error.instance), SHOWN_VALUE_LENGTH)} is not valid. {description}"
        return description
    return _shortened(error.message, 300)


def _node(schema, path) -> dict:
    for part in path:
        schema = schema[part]
    return schema if isinstance(schema, dict) else {}


def _shortened(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
