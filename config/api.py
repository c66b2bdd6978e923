"""API plumbing shared by every app: exact decimals from JSON, one error format, a body size limit.

Every error answers JSON: {"error": {"status": 400, "code": "...", "message": "...", "fields": {...}}}.
"""

import json
import logging
from datetime import UTC
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class DecimalJSONParser(JSONParser):
    """JSON numbers with a fraction become Decimal, not float: 10.10 stays exactly 10.10."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(stream.read().decode(encoding), parse_float=Decimal, parse_constant=_reject_constant)
        except RequestDataTooBig:
            raise
        except ValueError as error:
            raise exceptions.ParseError(f"Malformed JSON: {error}") from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


class ServiceUnavailable(exceptions.APIException):
    """A dependency (PostgreSQL, Temporal, the worker) is down or slow: retry, with the same idempotency key."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "unavailable"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class BodySizeLimitMiddleware:
    """Refuse bodies over API_MAX_BODY_BYTES with 413 before anything reads them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if request.path.startswith("/api/") and length > settings.API_MAX_BODY_BYTES:
            return JsonResponse(_body(413, "payload_too_large",
                                      f"The request body is {length} bytes; the limit is {settings.API_MAX_BODY_BYTES}."),
                                status=413)
        return self.get_response(request)


def _body(status_code: int, code: str, message: str, fields: dict | None = None) -> dict:
    error = {"status": status_code, "code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def _flatten(detail) -> str:
    if isinstance(detail, list):
        return " ".join(_flatten(item) for item in detail)
    if isinstance(detail, dict):
        return " ".join(f"{key}: {_flatten(value)}" for key, value in detail.items())
    return str(detail)


def api_exception_handler(exc, context):
    """DRF's handler, reshaped into the one error format; unexpected errors become a logged 500 JSON."""
    from rest_framework.views import exception_handler  # not at import: APIView reads this module's parser

    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, (OperationalError, InterfaceError)):  # PostgreSQL restarting or unreachable
        logger.warning("Database unavailable during an API request: %s", str(exc).splitlines()[0] if str(exc) else exc)
        exc = ServiceUnavailable("The database is unavailable; retry shortly.")
    if isinstance(exc, DataError):  # PostgreSQL refused a value the client sent (out of range, ...)
        exc = exceptions.ValidationError({"query": f"A value is out of range: {str(exc).splitlines()[0]}"})
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(_body(500, "server_error", "Something went wrong on our side; it has been logged."), status=500)
    detail = response.data
    if isinstance(exc, ServiceUnavailable):
        response["Retry-After"] = "1"
    if isinstance(exc, exceptions.ValidationError) and isinstance(detail, dict):
        fields = {key: _flatten(value) for key, value in detail.items()}
        message = "Invalid input: " + "; ".join(f"{key}: {text}" for key, text in fields.items())
        response.data = _body(response.status_code, "invalid", message, fields)
    else:
        code = getattr(exc, "default_code", "error")
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        response.data = _body(response.status_code, codes if isinstance(codes, str) else code, _flatten(detail))
    return response


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


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.CharField(), required=False)


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()
