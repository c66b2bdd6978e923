"""Temporal's codec-server protocol, so that the Temporal UI and the `temporal` CLI show payloads in
plain text to those allowed: POST /codec/decode and POST /codec/encode, each taking and answering
`{"payloads": [...]}` (Payload messages in protobuf JSON: metadata values and data in base64).

Who may call it: a user holding `eventstore.decode_temporal_payloads`, by API token (`Authorization:
Token <key>`, as `temporal workflow show --codec-auth` sends it) or by session (the Temporal UI with
"include cross-origin credentials", from an origin in TEMPORAL_CODEC_CORS_ORIGINS). The namespace the
caller names in `X-Namespace` (the UI and the CLI send it) must be one of TEMPORAL_CODEC_NAMESPACES.
Each answer is logged with the user's name and the number of payloads.

The session needs no CSRF token: the endpoint changes nothing, and a browser sends it a JSON body only
after a CORS preflight that only the configured origins pass.
"""

import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from google.protobuf import json_format
from rest_framework import authentication, exceptions, permissions
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from temporalio.api.common.v1 import Payloads

from eventstore.temporal.payload_codec import PayloadNotDecryptable, payload_codec
from eventstore.web.errors import error_body

PERMISSION = "eventstore.decode_temporal_payloads"
ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"
logger = logging.getLogger(__name__)


class SessionWithoutCsrf(authentication.SessionAuthentication):
    def enforce_csrf(self, request):
        return  # see the module's docstring


def _authentications() -> list:
    """The API's configured credentials (its token scheme, whichever app provides it), with sessions
    taken without CSRF."""
    configured = [each for each in api_settings.DEFAULT_AUTHENTICATION_CLASSES
                  if not issubclass(each, authentication.SessionAuthentication)]
    return [*configured, SessionWithoutCsrf]


class MayDecodePayloads(permissions.BasePermission):
    @property
    def message(self) -> str:
        return _("Reading Temporal payloads takes the permission %(permission)s.") % {"permission": PERMISSION}

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(PERMISSION))


class CodecView(APIView):
    authentication_classes = _authentications()
    permission_classes = [MayDecodePayloads]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    schema = None  # Temporal's protocol, not part of the API
    direction = ""  # "encode" or "decode"

    def dispatch(self, request, *args, **kwargs):
        if request.method == "OPTIONS":
            return self._with_cors(request, _preflight(request))
        return self._with_cors(request, super().dispatch(request, *args, **kwargs))

    def post(self, request):
        namespace = request.headers.get("X-Namespace", "")
        if not namespace:
            raise exceptions.ValidationError({"X-Namespace": _("Name the payloads' Temporal namespace in this header, "
                                                               "as the Temporal UI and CLI do.")})
        if namespace not in settings.TEMPORAL_CODEC_NAMESPACES:
            raise exceptions.PermissionDenied(_("Payloads of namespace %(namespace)r are not served here.")
                                              % {"namespace": namespace})
        payloads = _payloads(request.data)
        codec = payload_codec()
        if codec is None:
            return Response(_json(payloads))  # nothing is encrypted, nothing to do
        try:
            transform = codec.decrypt if self.direction == "decode" else codec.encrypt
            answered = Payloads(payloads=[transform(payload) for payload in payloads.payloads])
        except PayloadNotDecryptable as error:
            raise exceptions.ValidationError({"payloads": error.message}) from None
        logger.info("%s %sd %d Temporal payload(s) of namespace %s through the codec endpoint",
                    request.user.get_username(), self.direction, len(payloads.payloads), namespace)
        return Response(_json(answered))

    @staticmethod
    def _with_cors(request, response):
        origin = request.headers.get("Origin")
        if origin and origin in settings.TEMPORAL_CODEC_CORS_ORIGINS:
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Allow-Credentials"] = "true"
        patch_vary_headers(response, ["Origin"])
        response["Cache-Control"] = "no-store"
        return response


def _preflight(request) -> HttpResponse:
    """The browser's question before its POST: allowed from the configured origins only."""
    origin = request.headers.get("Origin", "")
    if origin not in settings.TEMPORAL_CODEC_CORS_ORIGINS:
        message = _("Origin %(origin)s may not call the codec endpoint: TEMPORAL_CODEC_CORS_ORIGINS names those "
                    "that may.") % {"origin": origin or _("(none)")}
        return JsonResponse(error_body(403, "permission_denied", message), status=403)
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response["Access-Control-Max-Age"] = "600"
    return response


def _json(payloads: Payloads) -> dict:
    return json_format.MessageToDict(payloads, always_print_fields_with_no_presence=True)


def _payloads(body) -> Payloads:
    if not isinstance(body, dict) or not isinstance(body.get("payloads"), list):
        raise exceptions.ValidationError(
            {"payloads": _('The body is {"payloads": [...]}, as Temporal\'s codec protocol sends it.')})
    try:
        return json_format.ParseDict({"payloads": body["payloads"]}, Payloads())
    except json_format.ParseError as error:
        message = _("Not Temporal payloads: %(error)s") % {"error": error}
        raise exceptions.ValidationError({"payloads": message}) from None


encode = CodecView.as_view(direction="encode")
decode = CodecView.as_view(direction="decode")
