"""The one error format of the API, and the errors every app's views raise.

Every error answers JSON: {"error": {"status": 400, "code": "...", "message": "...", "fields": {...}}}.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers, status


class ServiceUnavailable(exceptions.APIException):
    """A dependency (PostgreSQL, Temporal, the worker) is down or slow: retry, with the same idempotency key."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "unavailable"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "payload_too_large"


def error_body(status_code: int, code: str, message: str, fields: dict | None = None) -> dict:
    error = {"status": status_code, "code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.CharField(), required=False)


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()
