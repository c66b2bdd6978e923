"""Refuse bodies over API_MAX_BODY_BYTES with 413 before anything reads them."""

from django.conf import settings
from django.http import JsonResponse

from eventstore.api.errors import error_body


class BodySizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if request.path.startswith("/api/") and length > settings.API_MAX_BODY_BYTES:
            message = f"The request body is {length} bytes; the limit is {settings.API_MAX_BODY_BYTES}."
            return JsonResponse(error_body(413, "payload_too_large", message), status=413)
        return self.get_response(request)
