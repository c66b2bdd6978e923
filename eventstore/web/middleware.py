"""Refuse bodies over API_MAX_BODY_BYTES with 413 before anything reads them, and throttle floods of
unauthenticated API requests per client address (eventstore.web.client_address)."""

import time

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from rest_framework.throttling import AnonRateThrottle

from eventstore.web.client_address import client_address
from eventstore.web.errors import error_body


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


class UnauthenticatedThrottleMiddleware:
    """Throttle, per address, API requests answered 401 (no credentials or wrong ones) at API_ANON_RATE.

    DRF checks permissions before throttles, so without this an anonymous or bad-token flood is never
    throttled, and each bad token costs a database lookup. Once an address has had its share of 401s
    it gets 429 before any view or query runs, until the window passes.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(("/api/", "/codec/")):  # the codec endpoint takes API tokens too
            return self.get_response(request)
        allowed, window = _rate()
        window_index = int(time.time() // window)
        key = f"throttle_unauthenticated_{client_address(request)}_{window_index}"
        if cache.get(key, 0) >= allowed:
            wait = max(1, int((window_index + 1) * window - time.time()) + 1)
            message = f"Too many unauthenticated requests from your address; retry in {wait} seconds."
            response = JsonResponse(error_body(429, "throttled", message), status=429)
            response["Retry-After"] = str(wait)
            return response
        response = self.get_response(request)
        if response.status_code == 401:
            cache.add(key, 0, window)
            cache.incr(key)
        return response


def _rate() -> tuple[int, int]:
    throttle = AnonRateThrottle()  # API_ANON_RATE, or what a test set on the class
    return throttle.num_requests, throttle.duration
