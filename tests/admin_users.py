"""Admin users of the tests. Tests get the finance user from the `finance_user` fixture."""

import importlib

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

finance_group_migration = importlib.import_module("payments.migrations.0003_finance_staff_group")


def finance_user(username: str = "fiona"):
    """A staff member of the "Finance staff" group with the migration's permissions (transactional
    tests empty every table, the group and permissions included, so they are made again here)."""
    group, created = Group.objects.get_or_create(name=finance_group_migration.GROUP)
    if created:
        ContentType.objects.clear_cache()
        for app_config in apps.get_app_configs():
            create_permissions(app_config, verbosity=0)
        for app_label, model in finance_group_migration.VIEW_PERMISSIONS:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=f"view_{model}"))
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    user.groups.add(group)
    return user
