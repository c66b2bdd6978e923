"""OpenAPI generation (drf-spectacular): every operation documents the error format it can answer,
and the document publishes the event schemas the apps declared."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse

from eventstore import registry
from eventstore.web.errors import ErrorSerializer

ERROR_RESPONSES = {
    "400": "Invalid input; `fields` names each field and its problem.",
    "401": "No or invalid credentials.",
    "403": "Not allowed for this caller.",
    "404": "Not found (or not visible to this caller).",
    "405": "Method not allowed.",
    "406": "Not acceptable.",
    "413": "Request body too large.",
    "415": "Unsupported media type.",
    "429": "Too many requests.",
    "503": "A backing service did not answer in time.",
}


class AutoSchema(SpectacularAutoSchema):
    """Every operation documents the error format for each error status it can answer."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction == "response":
            for code, description in ERROR_RESPONSES.items():
                if code not in responses:
                    responses[code] = self._get_response_for_code(
                        OpenApiResponse(ErrorSerializer, description), code, direction=direction)
        return responses


def publish_event_schemas(result: dict, generator, request, public) -> dict:
    """A postprocessing hook: each declared event schema becomes a component, `<EventType>Data` for
    an event type's data and `<AggregateType>EventMetadata` for the metadata (they are written in
    the subset of JSON Schema that OpenAPI 3.0 shares)."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    for aggregate_type, declared in sorted(registry.event_schemas().items()):
        for event_type, schema in declared.data.items():
            components[f"{event_type}Data"] = {"title": f"{aggregate_type} {event_type} data", **schema}
        components[f"{aggregate_type}EventMetadata"] = {"title": f"{aggregate_type} event metadata",
                                                        **declared.metadata}
    return result
