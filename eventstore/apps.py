from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _after_migrate(sender, using: str, **kwargs) -> None:
    from eventstore import privileges, projections

    projections.provision_rebuild_tables(using=using)
    privileges.grant_application_privileges(using=using)


class EventStoreConfig(AppConfig):
    name = "eventstore"
    verbose_name = "Event store"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Sent once per app after a whole migrate run, so every table exists by then.
        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="eventstore.after_migrate")
