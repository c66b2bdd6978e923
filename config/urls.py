from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from eventstore.web import codec_server
from eventstore.web.fallback import UnknownEndpointView
from eventstore.web.health import healthz, readyz, status_view
from eventstore.web.metrics import metrics_view

api = [
    path("", include("payments.api.urls")),
    path("", include("analytics.api.urls")),
    path("", include("eventstore.api.urls")),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[AllowAny]), name="docs"),
    re_path(r"", UnknownEndpointView.as_view(), name="unknown-endpoint"),  # last: anything else under /api/
]

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", include(api)),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the admin's language chooser
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("status", status_view, name="status"),
    path("metrics", metrics_view, name="metrics"),
    # Temporal's codec-server protocol: the Temporal UI and CLI decode payloads here (codec endpoint: /codec)
    path("codec/encode", codec_server.encode, name="codec-encode"),
    path("codec/decode", codec_server.decode, name="codec-decode"),
]

handler400 = "config.error_pages.bad_request"
handler403 = "config.error_pages.permission_denied"
handler404 = "config.error_pages.page_not_found"
handler500 = "config.error_pages.server_error"
