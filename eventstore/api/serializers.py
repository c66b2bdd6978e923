"""How the API shows an event: its identity, place, payload, hashes and leaf in the ledger."""

from functools import cached_property

from django.utils.functional import lazy
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from eventstore import registry
from eventstore.ledger.selectors import ledger_indexes


def data_help_text() -> str:
    """Names the published schema of each declared event type's data (see `eventstore.web.schema`)."""
    text = "The event's data."
    for aggregate_type, schemas in sorted(registry.event_schemas().items()):
        components = ", ".join(f"`{event_type}Data`" for event_type in schemas.data)
        text += (f" {aggregate_type} events follow the schema of their event type, published as the components "
                 f"{components}.")
    return text


def metadata_help_text() -> str:
    """Names the published schema of each declared aggregate type's metadata."""
    schemas = "".join(f"; for {aggregate_type} events as the component `{aggregate_type}EventMetadata`"
                      for aggregate_type in sorted(registry.event_schemas()))
    return f"Who and what caused the event{schemas}."


class EventListSerializer(serializers.ListSerializer):
    """Reads the ledger indexes of a whole page of events with one query."""

    def to_representation(self, data):
        events = list(data)
        self.context["ledger_indexes"] = ledger_indexes([event.position for event in events])
        return super().to_representation(events)


class EventSerializer(serializers.Serializer):
    event_id = serializers.UUIDField()
    stream_id = serializers.CharField()
    event_type = serializers.CharField()
    version = serializers.IntegerField()
    position = serializers.IntegerField()
    timestamp = serializers.DateTimeField(source="recorded_at")
    # Lazy: the apps declare their event schemas when Django is ready, after this module may be imported.
    data = serializers.JSONField(help_text=lazy(data_help_text, str)())
    metadata = serializers.JSONField(help_text=lazy(metadata_help_text, str)())
    hash = serializers.CharField(help_text="SHA-256 (hex) of the event's canonical encoding, prev_hash included.")
    prev_hash = serializers.CharField(help_text="The hash of the stream's previous event; 64 zeros for the first.")
    ledger_index = serializers.SerializerMethodField(
        help_text="The event's leaf in the verifiable ledger (0-based); null until it is given one.")

    class Meta:
        list_serializer_class = EventListSerializer

    def to_representation(self, event) -> dict:
        """What the fields above give, built directly: DRF's field-by-field path (a lookup, a method
        and a check per field) was most of the time a page of events took to serialize. The fields
        stay declared for the schema and for what DRF's own path would answer."""
        return {
            "event_id": str(event.event_id), "stream_id": event.stream_id, "event_type": event.event_type,
            "version": event.version, "position": event.position,
            "timestamp": self._timestamp(event.recorded_at),
            "data": event.data, "metadata": event.metadata, "hash": str(event.hash), "prev_hash": str(event.prev_hash),
            "ledger_index": self.get_ledger_index(event),
        }

    def _timestamp(self, moment) -> str:
        """What the `timestamp` field answers (ISO 8601 in the current time zone, "Z" for UTC), the zone
        looked up once per page rather than once per event."""
        zone = self._iso_time_zone
        if zone is None:
            return self.fields["timestamp"].to_representation(moment)
        text = moment.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    @cached_property
    def _iso_time_zone(self):
        """The zone the `timestamp` field shows times in, when it shows them as ISO 8601 (else None)."""
        field = self.fields["timestamp"]
        if str(getattr(field, "format", api_settings.DATETIME_FORMAT)).lower() != ISO_8601:
            return None
        return field.default_timezone()

    def get_ledger_index(self, event) -> int | None:
        indexes = self.context.get("ledger_indexes")
        if indexes is None or event.position not in indexes:
            indexes = ledger_indexes([event.position])
        return indexes.get(event.position)
