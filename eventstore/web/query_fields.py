"""Query-parameter serializers shared by the API views."""

from datetime import UTC, datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

NO_NUL_PATTERN = r"^[^\u0000]*$"


@extend_schema_field({"type": "string", "pattern": NO_NUL_PATTERN})
class TextFilter(serializers.CharField):
    """A free-text filter: any text PostgreSQL can hold (no NUL), kept as sent; an empty one filters
    nothing, and a value that names nothing finds nothing."""

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_blank=True, trim_whitespace=False, **kwargs)


class RangeBound(serializers.DateTimeField):
    """A bound of a time range, in UTC. A moment beyond what a datetime can hold once in UTC (year 1
    with a positive offset, year 9999 with a negative one) is the earliest or latest moment there is:
    as a bound, it selects exactly the same events."""

    def enforce_timezone(self, value):
        if timezone.is_aware(value):
            try:
                return value.astimezone(UTC)
            except OverflowError:
                return _EARLIEST if value.year == datetime.min.year else _LATEST
        return super().enforce_timezone(value)


_EARLIEST, _LATEST = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)


class TimeRangeQuery(serializers.Serializer):
    """Query parameters `from` and `to` (Python keywords, hence added in get_fields); from < to."""

    range_required = False
    range_rule = "`from` must be before `to`."

    def get_fields(self):
        fields = super().get_fields()
        for name in ("from", "to"):
            fields[name] = RangeBound(required=self.range_required,
                                      help_text=f"ISO 8601; naive times are UTC. {self.range_rule}")
        return fields

    def validate(self, attrs):
        since, until = attrs.get("from"), attrs.get("to")
        if since and until and since >= until:
            raise serializers.ValidationError({"from": _("'from' must be before 'to'.")})
        return super().validate(attrs)
