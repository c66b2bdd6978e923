from importlib import import_module

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

MODEL_PACKAGES = ("ledger", "integrity", "projections", "delivery", "temporal")


def _after_migrate(sender, using: str, plan=None, **kwargs) -> None:
    """Rebuild tables and the application role's grants follow the schema, so they are redone after
    every `migrate`. A flush (Django's test teardown) empties tables and keeps both: it is skipped."""
    if plan is None:  # sent by flush, which passes no migration plan
        return
    from eventstore import privileges
    from eventstore.projections import rebuild

    rebuild.provision_rebuild_tables(using=using)
    privileges.grant_application_privileges(work_schema=rebuild.REBUILD_SCHEMA, using=using)


class EventStoreConfig(AppConfig):
    name = "eventstore"
    verbose_name = _("Event store")
    default_auto_field = "django.db.models.BigAutoField"

    def import_models(self) -> None:
        """The log's models, then each package's own tables (they belong to this app all the same)."""
        super().import_models()
        for package in MODEL_PACKAGES:
            import_module(f"eventstore.{package}.models")

    def ready(self) -> None:
        from eventstore import erasure, registry
        from eventstore.admin.events import TIMELINE_PAGE
        from eventstore.admin.ledger import LEDGER_PROOF_PAGE
        from eventstore.exports import AGGREGATE_TYPE, DATA_EXPORT_SCHEMAS
        from eventstore.temporal import activities, workflows
        from eventstore.temporal.messages import ScheduledRunRequest, VerificationRequest

        registry.declare(workflows=workflows.WORKFLOWS, activities=activities.ACTIVITIES, admin_pages=[TIMELINE_PAGE, LEDGER_PROOF_PAGE],
                         event_schemas={AGGREGATE_TYPE: DATA_EXPORT_SCHEMAS,
                                        erasure.AGGREGATE_TYPE: erasure.ERASURE_SCHEMAS},
                         schedules=[
                             registry.Schedule("sign-tree-head", workflows.SignTreeHeadWorkflow.run,
                                               ScheduledRunRequest(), "LEDGER_SIGN_INTERVAL"),
                             registry.Schedule("verify-event-chain", workflows.VerifyChainWorkflow.run,
                                               VerificationRequest(), "VERIFY_INTERVAL"),
                             registry.Schedule("verify-event-chain-full", workflows.VerifyChainWorkflow.run,
                                               VerificationRequest(full=True), "VERIFY_FULL_INTERVAL"),
                         ])
        # Sent once per app after a whole migrate run, so every table exists by then.
        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="eventstore.after_migrate")
