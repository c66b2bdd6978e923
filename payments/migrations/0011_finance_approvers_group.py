"""The "Finance approvers" group beside "Finance staff": what finance staff see, plus approving or
rejecting refunds and cancels of their organizations. Finance staff may now request refunds and
cancels in the admin and see the approvals queue."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

STAFF, APPROVERS = "Finance staff", "Finance approvers"
VIEW_PERMISSIONS = [
    ("payments", "view_paymentsummary"),
    ("eventstore", "view_event"),
    ("eventstore", "view_stream"),
    ("eventstore", "view_seal"),
    ("eventstore", "view_chainverification"),
    ("eventstore", "view_projectioncheckpoint"),
    ("eventstore", "view_projectionerror"),
]
STAFF_ADDED = [("payments", "request_payment_command"), ("payments", "view_approval")]
APPROVER_ADDED = [("payments", "approve_payment_command"), ("payments", "view_approval")]


def create_group(apps, schema_editor):
    for app_config in apps.get_app_configs():  # permissions are otherwise created only after all migrations
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permission(app_label, codename):
        return Permission.objects.get(content_type__app_label=app_label, codename=codename)

    staff, _ = Group.objects.get_or_create(name=STAFF)
    staff.permissions.add(*(permission(*each) for each in STAFF_ADDED))
    approvers, _ = Group.objects.get_or_create(name=APPROVERS)
    approvers.permissions.add(*(permission(*each) for each in VIEW_PERMISSIONS + APPROVER_ADDED))


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=APPROVERS).delete()


class Migration(migrations.Migration):
    dependencies = [("payments", "0010_approval_policy_and_approvals")]

    operations = [migrations.RunPython(create_group, remove_group)]
