from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from analytics import activities, projections, workflows
        from analytics.admin import DASHBOARD_PAGE, OPERATIONS_PAGE, STATEMENT_PAGE
        from eventstore import registry

        registry.declare(workflows=workflows.WORKFLOWS, activities=activities.ACTIVITIES, projections=projections.PROJECTIONS,
                         admin_pages=[DASHBOARD_PAGE, OPERATIONS_PAGE, STATEMENT_PAGE])
