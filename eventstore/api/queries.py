"""Query-parameter serializers shared by the API views."""

from datetime import UTC

from rest_framework import serializers


class TimeRangeQuery(serializers.Serializer):
    """Query parameters `from` and `to` (Python keywords, hence added in get_fields); from < to."""

    range_required = False

    def get_fields(self):
        fields = super().get_fields()
        for name in ("from", "to"):
            fields[name] = serializers.DateTimeField(required=self.range_required,
                                                     help_text="ISO 8601; naive times are UTC.")
        return fields

    def validate(self, attrs):
        for name in ("from", "to"):
            if attrs.get(name) is not None:
                try:
                    attrs[name] = attrs[name].astimezone(UTC)
                except OverflowError:
                    raise serializers.ValidationError({name: "Out of the range of dates we can handle."}) from None
        since, until = attrs.get("from"), attrs.get("to")
        if since and until and since >= until:
            raise serializers.ValidationError({"from": "'from' must be before 'to'."})
        return super().validate(attrs)
