import importlib

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

finance_group_migration = importlib.import_module("payments.migrations.0003_finance_staff_group")


def finance_user(username: str = "fiona"):
    """A staff member of the "Finance staff" group, as the migration defines it (transactional
    tests empty every table, the migration's group included, so it is made again here)."""
    if not Group.objects.filter(name=finance_group_migration.GROUP).exists():
        finance_group_migration.create_group(apps, None)
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=finance_group_migration.GROUP))
    return user
