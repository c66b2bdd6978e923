"""Data exports: the `DataExported` events as an admin list (a proxy of the events table), readable
with `eventstore.view_dataexport`, which the "Auditor" group receives."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

AUDITOR_GROUP = "Auditor"


def let_auditors_read_exports(apps, schema_editor):
    eventstore = apps.get_app_config("eventstore")
    eventstore.models_module = True  # permissions are otherwise created only after all migrations
    create_permissions(eventstore, verbosity=0)
    eventstore.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=AUDITOR_GROUP)
    group.permissions.add(Permission.objects.get(content_type__app_label="eventstore", codename="view_dataexport"))


def forget(apps, schema_editor):
    apps.get_model("auth", "Permission").objects.filter(content_type__app_label="eventstore",
                                                        codename="view_dataexport").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("eventstore", "0019_key_rotation"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name="DataExport",
            fields=[],
            options={
                "verbose_name": "data export",
                "ordering": ["-position"],
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("eventstore.event",),
        ),
        migrations.RunPython(let_auditors_read_exports, forget),
    ]
