from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")
    default_auto_field = "django.db.models.BigAutoField"

    def import_models(self) -> None:
        """The payment models, then reconciliation's (tables of this app all the same)."""
        super().import_models()
        import_module("payments.reconciliation.models")

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
        from payments.reconciliation import activities as reconciliation_activities
        from payments.reconciliation import events as reconciliation_events
        from payments.reconciliation import workflows as reconciliation_workflows

        registry.declare(
            workflows=[*workflows.WORKFLOWS, *reconciliation_workflows.WORKFLOWS],
            activities=[*activities.ACTIVITIES, *reconciliation_activities.ACTIVITIES],
            projections=projections.PROJECTIONS,
            stream_admin_urls={AGGREGATE_TYPE: "admin:payments_paymentsummary_change",
                               reconciliation_events.AGGREGATE_TYPE: "admin:payments_reconciliation_change"},
            event_schemas={AGGREGATE_TYPE: PAYMENT_EVENT_SCHEMAS, ORGANIZATION_AGGREGATE_TYPE: ORGANIZATION_EVENT_SCHEMAS,
                           reconciliation_events.AGGREGATE_TYPE: reconciliation_events.RECONCILIATION_EVENT_SCHEMAS},
            search_attributes=search_attributes.KEYS,
            upcasters=upcasting.UPCASTERS,
            # A payment changes only by its commands, whose workflow applies the payment rules.
            command_only={AGGREGATE_TYPE: workflow._Definition.must_from_class(  # the SDK has no public reader
                workflows.PaymentEventSourcingWorkflow).name},
            visible_organizations=selectors.visible_organizations,
        )
