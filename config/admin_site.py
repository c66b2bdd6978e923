"""The admin site of the product: the usual models plus custom pages that apps declare.

Apps declare their pages through `eventstore.registry` (`admin_pages`); they are served behind the
admin's own login and permission checks (`admin_view`) and named `admin:<name>`.
"""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from eventstore import registry


class PaymentsAdminSite(admin.AdminSite):
    site_header = gettext_lazy("Payments audit trail")
    site_title = gettext_lazy("Payments audit trail")
    index_title = gettext_lazy("History, read models and analytics")
    enable_nav_sidebar = False  # the lists need the width at 1280 px, and it rendered the app list on every page

    def each_context(self, request):
        """As Django's, less the navigation sidebar's app list (the sidebar is off), which cost every
        page a pass over every model's permissions."""
        request.skip_sidebar_apps = True
        try:
            return {**super().each_context(request), "without_organization": without_organization(request.user)}
        finally:
            del request.skip_sidebar_apps

    def get_app_list(self, request, app_label=None):
        """Payments first: what finance staff open most, then the event store and the rest."""
        if getattr(request, "skip_sidebar_apps", False):
            return []
        apps = super().get_app_list(request, app_label)
        return sorted(apps, key=lambda app: app["app_label"] != "payments")

    def get_urls(self):
        pages = [path(page.route, self.admin_view(page.view), name=page.name) for page in registry.admin_pages()]
        return pages + super().get_urls()


def without_organization(user) -> bool:
    """A signed-in user who may see no organization yet (staff a superuser has just made): every page
    says why it is empty (templates/admin/base_site.html)."""
    return user.is_authenticated and registry.visible_organizations(user) == []


class PaymentsAdminConfig(AdminConfig):
    default_site = "config.admin_site.PaymentsAdminSite"


def login_locked_out(request, credentials, *args, **kwargs) -> HttpResponse:
    """The page after too many failed logins (django-axes' AXES_LOCKOUT_CALLABLE), in the admin's look."""
    context = {
        **admin.site.each_context(request),
        "title": _("Too many failed logins"),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "lockout_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "admin/login_locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
