from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from temporalio import workflow

        from eventstore import registry
        from payments import activities, projections, search_attributes, selectors, upcasting, workflows
        from payments.domain import AGGREGATE_TYPE
        from payments.event_schemas import (
            ORGANIZATION_AGGREGATE_TYPE,
            ORGANIZATION_EVENT_SCHEMAS,
            PAYMENT_EVENT_SCHEMAS,
        )

        registry.declare(
            workflows=workflows.WORKFLOWS,
            activities=activities.ACTIVITIES,
            projections=projections.PROJECTIONS,
            stream_admin_urls={AGGREGATE_TYPE: "admin:payments_paymentsummary_change"},
            event_schemas={AGGREGATE_TYPE: PAYMENT_EVENT_SCHEMAS, ORGANIZATION_AGGREGATE_TYPE: ORGANIZATION_EVENT_SCHEMAS},
            search_attributes=search_attributes.KEYS,
            upcasters=upcasting.UPCASTERS,
            # A payment changes only by its commands, whose workflow applies the payment rules.
            command_only={AGGREGATE_TYPE: workflow._Definition.must_from_class(  # the SDK has no public reader
                workflows.PaymentEventSourcingWorkflow).name},
            visible_organizations=selectors.visible_organizations,
        )
