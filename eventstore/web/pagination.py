"""One pagination vocabulary for every paged list: `limit` and an opaque `cursor`.

A page answers `{"results": [...], "next": URL or null}`; `next` repeats the request with the cursor
of the place after the page's last row. `limit` is 1 to MAX_LIMIT (default DEFAULT_LIMIT); a value
out of range is refused with 400, never replaced by another.

A cursor is opaque to clients, but its format is stated in the schema (a pattern), and every string
of that format is a cursor: it names a place in the list's order, so a place past the end gives an
empty page rather than an error. A string of another format is refused with 400. Cursors are keyset
cursors: a page starts strictly after the place, whatever was added or removed since.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from eventstore.delivery.cursors import COMMIT_CURSOR_PATTERN

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
LIMIT_HELP = f"Rows per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})."
CURSOR_HELP = "Opaque: the `cursor` of the previous page's `next` link. Leave it out for the first page."


def limit_field() -> serializers.IntegerField:
    return serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT,
                                    help_text=LIMIT_HELP)


# Places in position order (the events search): "p" and the position in hex.
POSITION_CURSOR_PATTERN = r"^p[0-9a-f]{1,15}$"


def position_cursor(position: int) -> str:
    return f"p{position:x}"


def _cursor_field(pattern: str, max_length: int) -> serializers.RegexField:
    """The schema's pattern (ECMA-262 anchors), matched whole in Python."""
    return serializers.RegexField(rf"\A{pattern[1:-1]}\Z", required=False, max_length=max_length,
                                  help_text=CURSOR_HELP, error_messages={"invalid": "Not a cursor this API gave out."})


def position_cursor_field() -> serializers.RegexField:
    return _cursor_field(POSITION_CURSOR_PATTERN, 16)


def position_of(cursor: str | None) -> int:
    """The position a validated cursor names; 0 (before the first event) without one."""
    return int(cursor[1:], 16) if cursor else 0


def commit_cursor_field() -> serializers.RegexField:
    return _cursor_field(COMMIT_CURSOR_PATTERN, 32)


# Places in newest-first order with a tie-breaking key (e.g. payments): "t", the time in microseconds
# since the year 1 in hex, ".", the key's UTF-8 in hex (any key: ids are not all of one alphabet).
MAX_KEY_BYTES = 480  # 120 characters (the longest payment id) of up to 4 bytes each
TIME_KEY_CURSOR_PATTERN = rf"^t[0-9a-f]{{1,15}}\.([0-9a-f]{{2}}){{1,{MAX_KEY_BYTES}}}$"
TIME_KEY_CURSOR_LENGTH = 1 + 15 + 1 + 2 * MAX_KEY_BYTES
_EPOCH = datetime.min.replace(tzinfo=UTC)
_LATEST_MICROSECONDS = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True)
class TimeKeyPlace:
    time: datetime
    key: str


def time_key_cursor(time: datetime, key: str) -> str:
    return f"t{(time - _EPOCH) // timedelta(microseconds=1):x}.{key.encode()[:MAX_KEY_BYTES].hex()}"


def time_key_place(cursor: str) -> TimeKeyPlace:
    """The place a validated cursor names. A time after the last one Python can hold sorts after
    every row, exactly as that last time does; bytes that are no UTF-8 (or a NUL, which no text
    holds) still name a place in the key order."""
    micros, key = cursor[1:].split(".", 1)
    text = bytes.fromhex(key).decode(errors="replace").replace("\x00", "\ufffd")
    return TimeKeyPlace(_EPOCH + timedelta(microseconds=min(int(micros, 16), _LATEST_MICROSECONDS)), text)


def next_link(request, cursor: str | None) -> str | None:
    """The request's own URL with `cursor` in place of its cursor; None at the end."""
    if cursor is None:
        return None
    query = request.query_params.copy()
    query["cursor"] = cursor
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


class _TimeKeyQuery(serializers.Serializer):
    limit = limit_field()
    cursor = _cursor_field(TIME_KEY_CURSOR_PATTERN, TIME_KEY_CURSOR_LENGTH)


class TimeKeyPagination(BasePagination):
    """Newest first by `time_field`, ties broken by `key_field` ascending, for generic list views."""

    time_field = "created_at"
    key_field = "pk"

    def paginate_queryset(self, queryset, request, view=None):
        query = _TimeKeyQuery(data=request.query_params)
        if not query.is_valid():
            raise ValidationError(query.errors)
        limit, cursor = query.validated_data["limit"], query.validated_data.get("cursor")
        queryset = queryset.order_by(f"-{self.time_field}", self.key_field)
        if cursor:
            place = time_key_place(cursor)
            queryset = queryset.filter(Q(**{f"{self.time_field}__lt": place.time})
                                       | Q(**{self.time_field: place.time, f"{self.key_field}__gt": place.key}))
        rows = list(queryset[: limit + 1])
        page, more = rows[:limit], len(rows) > limit
        last = page[-1] if more else None
        self.next = next_link(request, time_key_cursor(getattr(last, self.time_field), str(getattr(last, self.key_field)))
                              if last is not None else None)
        return page

    def get_paginated_response(self, data):
        return Response({"results": data, "next": self.next})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results", "next"],
            "properties": {
                "results": schema,
                "next": {"type": "string", "format": "uri", "nullable": True,
                         "description": "URL of the next page, or null at the end."},
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {"name": "limit", "in": "query", "required": False, "description": LIMIT_HELP,
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
            {"name": "cursor", "in": "query", "required": False, "description": CURSOR_HELP,
             "schema": {"type": "string", "pattern": TIME_KEY_CURSOR_PATTERN, "maxLength": TIME_KEY_CURSOR_LENGTH}},
        ]
