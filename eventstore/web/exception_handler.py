"""DRF's exception handler, reshaped into the one error format; unexpected errors become a logged 500 JSON."""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from eventstore.temporal.payload_codec import PayloadNotDecryptable
from eventstore.web.errors import PayloadTooLarge, ServiceUnavailable, error_body

logger = logging.getLogger(__name__)


def api_exception_handler(exc, context):
    exc = _as_api_exception(exc)
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(error_body(500, "server_error", _("Something went wrong on our side; it has been logged.")),
                        status=500)
    detail = response.data
    if isinstance(exc, ServiceUnavailable):
        response["Retry-After"] = "1"
    if isinstance(exc, exceptions.ValidationError) and isinstance(detail, dict):
        fields = {key: _flatten(value) for key, value in detail.items()}
        message = _("Invalid input: %(problems)s") % {
            "problems": "; ".join(f"{key}: {text}" for key, text in fields.items())}
        response.data = error_body(response.status_code, "invalid", message, fields)
    else:
        code = getattr(exc, "default_code", "error")
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        # The exception's own text: DRF's response wraps it as {"detail": ...}, which is no message.
        message = _flatten(exc.detail if isinstance(exc, exceptions.APIException) else detail)
        response.data = error_body(response.status_code, codes if isinstance(codes, str) else code, message)
    return response


def _as_api_exception(exc):
    """Django's and the database's errors as the API errors a client should see."""
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, exceptions.NotAuthenticated) and exc.detail == exceptions.NotAuthenticated.default_detail:
        return exceptions.NotAuthenticated(_(
            "No credentials were provided: send 'Authorization: Token <key>' (manage.py create_api_token prints "
            "a key), or use a session."
        ))
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    if _undecryptable(exc):  # this process lacks a payload key the worker or Temporal client used
        logger.error("A Temporal payload could not be decrypted during an API request: %s", _undecryptable(exc))
        return ServiceUnavailable("Temporal's answer cannot be decrypted by this server (a payload key is missing "
                                  "here); it has been logged.")
    if isinstance(exc, (OperationalError, InterfaceError)):  # PostgreSQL restarting or unreachable
        logger.warning("Database unavailable during an API request: %s", str(exc).splitlines()[0] if str(exc) else exc)
        return ServiceUnavailable(_("The database is unavailable; retry shortly."))
    if isinstance(exc, DataError):  # PostgreSQL refused a value the client sent (out of range, ...)
        return exceptions.ValidationError({"query": _("A value is out of range: %(error)s") % {
            "error": str(exc).splitlines()[0]}})
    return exc


def _undecryptable(exc) -> str | None:
    """The message of a PayloadNotDecryptable met here, or by the worker (the cause of a failed workflow)."""
    for error in (exc, getattr(exc, "cause", None)):
        if getattr(error, "type", None) == PayloadNotDecryptable.TYPE:
            return error.message
    return None


def _flatten(detail) -> str:
    if isinstance(detail, list):
        return " ".join(_flatten(item) for item in detail)
    if isinstance(detail, dict):
        return " ".join(f"{key}: {_flatten(value)}" for key, value in detail.items())
    return str(detail)
