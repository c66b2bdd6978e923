"""Workflow inputs from any Temporal client: decoded strictly, and refused at once naming the field.

With the SDK's default converter, an input that cannot be decoded into the run method's dataclass
(a misspelled key, a number where text is expected) fails the *workflow task*: Temporal retries it
without end and the workflow stays Running, and its caller waits forever. The project's clients and
workers use `data_converter(workflows)` instead: the inputs of those workflows are decoded here, and
anything that cannot be decoded or validated raises a non-retryable ApplicationError of type
`InvalidInput` whose message and details name the field. The SDK fails the workflow with it at once.
`WorkflowInputCheck`, a worker interceptor, does the same for a workflow started with the wrong
number of inputs (none, say). Pure Python, no Django: the sandbox imports this module.

The rules, for the wire dataclasses of `*/messages.py`:
- every field the dataclass requires must be there, and no key may be unknown (a misspelled
  optional field would otherwise be ignored without a word); `null` stands for an absent field;
- text is text, integers are integers (a number with no fraction counts), booleans are booleans;
- fields declared with `text_or_number()` also take a JSON number, read from its shortest decimal
  text (`100.00` sent as a number is "100.0"), which the domain then checks, as for any text;
- fields declared with `instant()` are ISO 8601 dates and times with an offset;
- fields declared with `at_least(n)` are numbers not below n;
- free-form objects and arrays nest at most MAX_INPUT_DEPTH levels.
"""

import dataclasses
import difflib
import inspect
import json
import math
import re
import types
import typing
from datetime import datetime
from typing import Any, Iterable

from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ExecuteWorkflowInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

INVALID_INPUT = "InvalidInput"
MAX_INPUT_DEPTH = 100  # well above the store's own limit, well below Python's recursion limit

_TEXT_OR_NUMBER = "text_or_number"
_INSTANT = "instant"
_AT_LEAST = "at_least"


def text_or_number(**field_options) -> Any:
    """A text field that also takes a JSON number, read from its shortest decimal text."""
    return dataclasses.field(**field_options, metadata={_TEXT_OR_NUMBER: True})


def instant(**field_options) -> Any:
    """A text field holding an ISO 8601 date and time with an offset."""
    return dataclasses.field(**field_options, metadata={_INSTANT: True})


def at_least(minimum: int, **field_options) -> Any:
    """A number field whose value may not be below `minimum`."""
    return dataclasses.field(**field_options, metadata={_AT_LEAST: minimum})


class InputError(Exception):
    def __init__(self, path: str, problem: str):
        super().__init__(f"Input field '{path}' {problem}" if path else f"The input {problem}")
        self.path = path


def decode_input(hint: Any, value: Any) -> Any:
    """`value` (decoded JSON) as `hint`, or InputError naming the first field that does not fit."""
    return _decode(hint, value, "", {})


def _decode(hint: Any, value: Any, path: str, declared: typing.Mapping) -> Any:
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        return _union(typing.get_args(hint), value, path, declared)
    if dataclasses.is_dataclass(hint):
        return _dataclass(hint, value, path)
    if hint is str:
        return _text(value, path, declared)
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise InputError(path, f"must be true or false, not {_kind(value)}.")
    if hint in (int, float):
        return _number(hint, value, path, declared)
    if hint is dict or origin is dict:
        return _container(dict, hint, value, path)
    if hint is list or origin is list:
        return _container(list, hint, value, path)
    raise TypeError(f"No input decoding for {hint!r} (at {path or 'the input'}).")


def _union(members: tuple, value: Any, path: str, declared: typing.Mapping) -> Any:
    if value is None and type(None) in members:
        return None
    candidates = [member for member in members if member is not type(None)]
    first_error = None
    for member in candidates:
        try:
            return _decode(member, value, path, declared)
        except InputError as error:
            first_error = first_error or error
    raise first_error


def _dataclass(cls: type, value: Any, path: str) -> Any:
    fields = {field.name: field for field in dataclasses.fields(cls) if field.init}
    if not isinstance(value, dict):
        raise InputError(path, f"must be a JSON object with the fields of {cls.__name__} ({', '.join(fields)}), "
                               f"not {_kind(value)}.")
    for key in value:
        if key not in fields:
            raise InputError(_join(path, key), f"is not a field of {cls.__name__}; {_suggestion(key, fields)}")
    hints = typing.get_type_hints(cls)
    arguments = {}
    for name, field in fields.items():
        here, given = _join(path, name), value.get(name)
        if given is None:  # absent, or null, which stands for absent
            if _has_default(field):
                continue
            if name in value and _allows_none(hints[name]):
                arguments[name] = None
                continue
            raise InputError(here, f"is required ({cls.__name__} needs {_required(fields)}).")
        arguments[name] = _checked(_decode(hints[name], given, here, field.metadata), here, field.metadata)
    return cls(**arguments)


def _has_default(field: dataclasses.Field) -> bool:
    return field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING


def _checked(value: Any, path: str, declared: typing.Mapping) -> Any:
    if value is None:
        return value
    if declared.get(_INSTANT):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise InputError(path, "must be an ISO 8601 date and time with an offset, e.g. "
                                   f"\"2026-02-01T00:00:00+00:00\", not {_shown(value)}.")
    minimum = declared.get(_AT_LEAST)
    if minimum is not None and value < minimum:
        raise InputError(path, f"must be at least {minimum}, not {value}.")
    return value


def _text(value: Any, path: str, declared: typing.Mapping) -> str:
    if isinstance(value, str):
        return value
    if declared.get(_TEXT_OR_NUMBER) and isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(path, f"must be a finite number, not {value}.")
        return repr(value)  # the shortest decimal text that reads back as the same number
    expected = "a decimal string such as \"100.00\" or a JSON number" if declared.get(_TEXT_OR_NUMBER) else "text"
    raise InputError(path, f"must be {expected}, not {_kind(value)}.")


def _number(hint: type, value: Any, path: str, declared: typing.Mapping) -> int | float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if hint is int and isinstance(value, float) and value.is_integer():
            return int(value)
        if hint is int and isinstance(value, int):
            return value
        if hint is float and math.isfinite(value):
            return float(value)
    expected = "an integer" if hint is int else "a number"
    raise InputError(path, f"must be {expected}, not {_kind(value)}{'' if isinstance(value, bool) else ' ' + _shown(value)}.")


def _container(kind: type, hint: Any, value: Any, path: str) -> Any:
    if not isinstance(value, kind):
        raise InputError(path, f"must be {'a JSON object' if kind is dict else 'an array'}, not {_kind(value)}.")
    arguments = typing.get_args(hint)
    if kind is list and arguments:
        return [_decode(arguments[0], item, f"{path}[{index}]", {}) for index, item in enumerate(value)]
    if kind is dict and len(arguments) == 2:
        return {key: _decode(arguments[1], item, _join(path, key), {}) for key, item in value.items()}
    if _depth(value) > MAX_INPUT_DEPTH:  # free-form: passed on as it is, to be encoded again
        raise InputError(path, f"nests objects and arrays deeper than {MAX_INPUT_DEPTH} levels.")
    return value


def _depth(value: Any) -> int:
    """How deep objects and arrays nest in `value`, counted without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if deepest > MAX_INPUT_DEPTH:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return deepest


def _allows_none(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in typing.get_args(hint)


def _required(fields: dict) -> str:
    return ", ".join(name for name, field in fields.items() if not _has_default(field))


def _suggestion(key: str, fields: dict) -> str:
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()
    close = [snake] if snake in fields else difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else f"its fields are {', '.join(fields)}."


def _join(path: str, key: str) -> str:
    key = key.encode("utf-8", "backslashreplace").decode()
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "an array" if isinstance(value, list) else "an object"


def _shown(value: Any) -> str:
    text = repr(value).encode("utf-8", "backslashreplace").decode()
    return text if len(text) <= 60 else text[:59] + "…"


def _invalid(message: str, path: str = "") -> ApplicationError:
    return ApplicationError(message, *([path] if path else []), type=INVALID_INPUT, non_retryable=True)


class _InputDecodingJSONConverter(JSONPlainPayloadConverter):
    """The SDK's JSON converter, except for the declared input types, which `decode_input` decodes."""

    def __init__(self, input_types: frozenset):
        super().__init__()
        self._input_types = input_types

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        if not self._is_input(type_hint):
            return super().from_payload(payload, type_hint)
        try:
            value = json.loads(payload.data)
        except (ValueError, RecursionError) as error:
            raise _invalid(f"The input is not JSON that can be read: {error}.") from None
        try:
            return decode_input(type_hint, value)
        except InputError as error:
            raise _invalid(str(error), error.path) from None

    def _is_input(self, type_hint) -> bool:
        try:
            return type_hint is not None and type_hint in self._input_types
        except TypeError:  # an unhashable hint is no declared input
            return False


class WorkflowInputPayloadConverter(CompositePayloadConverter):
    """The SDK's default payload converters, with the JSON one decoding `input_types` strictly.

    Subclassed per set of workflows by `data_converter` (the SDK builds payload converters without
    arguments, also inside the workflow sandbox)."""

    input_types: frozenset = frozenset()

    def __init__(self) -> None:
        super().__init__(*(
            _InputDecodingJSONConverter(self.input_types) if isinstance(converter, JSONPlainPayloadConverter)
            else converter
            for converter in DefaultPayloadConverter.default_encoding_payload_converters
        ))


def data_converter(workflows: Iterable[type]) -> DataConverter:
    """The default data converter, but the inputs of `workflows` are decoded strictly."""
    input_types = frozenset(hint for workflow_class in workflows for hint in _input_types(workflow_class))
    converter_class = type("WorkflowInputPayloadConverter", (WorkflowInputPayloadConverter,),
                           {"input_types": input_types, "__module__": __name__})
    return dataclasses.replace(DataConverter.default, payload_converter_class=converter_class)


def _input_types(workflow_class: type) -> list:
    definition = getattr(workflow_class, "__temporal_workflow_definition", None)
    return list(getattr(definition, "arg_types", None) or [])


class WorkflowInputCheck(Interceptor):
    """Fails a workflow at once when it was started with more or fewer inputs than its run method
    takes (the data converter never sees a missing input)."""

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return _InputCount


class _InputCount(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        parameters = list(inspect.signature(input.run_fn).parameters.values())[1:]  # after self
        required = [parameter for parameter in parameters if parameter.default is parameter.empty]
        if not len(required) <= len(input.args) <= len(parameters):
            names = ", ".join(f"{parameter.name} ({_type_name(parameter.annotation)})" for parameter in parameters)
            plural = "s" if len(parameters) != 1 else ""
            raise _invalid(f"{workflow.info().workflow_type} takes {len(parameters)} input{plural}: {names}; "
                           f"it was started with {len(input.args)}.")
        return await super().execute_workflow(input)


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation)


def parse_instant(text: str | None, name: str, *, error_type: str) -> datetime | None:
    """An ISO 8601 instant that crossed the boundary as text; it must carry its offset.

    Anything else is a non-retryable ApplicationError of `error_type`: retrying cannot fix it.
    """
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ApplicationError(f"'{name}' must be an ISO 8601 date and time with an offset, not {text!r}.",
                               name, type=error_type, non_retryable=True)
    return moment
