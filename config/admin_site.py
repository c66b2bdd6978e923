"""The admin site of the product: the usual models plus custom pages that apps declare.

Each app may list pages in `<app>.admin.ADMIN_PAGES` as (route, view, name); they are served behind
the admin's own login and permission checks (`admin_view`) and named `admin:<name>`.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.urls import path

from config.app_modules import declared_by_apps


class PaymentsAdminSite(admin.AdminSite):
    site_header = "Payments audit trail"
    site_title = "Payments audit trail"
    index_title = "History, read models and analytics"

    def get_urls(self):
        pages = [path(route, self.admin_view(view), name=name)
                 for route, view, name in declared_by_apps("admin", "ADMIN_PAGES")]
        return pages + super().get_urls()


class PaymentsAdminConfig(AdminConfig):
    default_site = "config.admin_site.PaymentsAdminSite"
