"""Every path under /api/ that names no endpoint answers in the API's error format, for any method.

Without it Django would answer an HTML page, or redirect a path missing its trailing slash (which
loses a POST body). The answer names the endpoint a missing slash was meant for.
"""

from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView


@extend_schema(exclude=True)
class UnknownEndpointView(APIView):
    permission_classes = [AllowAny]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise NotFound(_message(request))


def _message(request) -> str:
    path = request.path
    if not path.endswith("/"):
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and getattr(match.func, "view_class", None) is not UnknownEndpointView:
            return _("No endpoint at %(path)s; did you mean %(path)s/? API paths end with a slash.") % {"path": path}
    return _("No endpoint at %(path)s; the endpoints are listed at /api/schema/.") % {"path": path}
