from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "Payments audit trail"
admin.site.site_title = "Payments audit trail"
admin.site.index_title = "History, read models and analytics"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
]
