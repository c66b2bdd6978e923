"""The "Finance staff" group: view-only over payments, events, streams, seals, verifications and
projections, which is also what the analytics dashboard and timelines require."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Finance staff"
VIEW_PERMISSIONS = [
    ("payments", "paymentsummary"),
    ("eventstore", "event"),
    ("eventstore", "stream"),
    ("eventstore", "seal"),
    ("eventstore", "chainverification"),
    ("eventstore", "projectioncheckpoint"),
    ("eventstore", "projectionerror"),
]


def create_group(apps, schema_editor):
    for app_config in apps.get_app_configs():  # permissions are otherwise created only after all migrations
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    for app_label, model in VIEW_PERMISSIONS:
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=f"view_{model}"))


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0002_organizations"),
        ("eventstore", "0009_chain_verification"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
