"""Admin users for finance: staff of the "Finance staff" group who see the payments of their
organizations (memberships) and request refunds and cancels, approvers of the "Finance approvers"
group who also approve them, and operators who also hold `payments.view_all_organizations`."""

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from payments.models import Membership, Organization

# The group and its view permissions as migration payments/0003_finance_staff_group creates them.
FINANCE_GROUP = "Finance staff"
FINANCE_VIEW_PERMISSIONS = (
    ("payments", "paymentsummary"),
    ("eventstore", "event"),
    ("eventstore", "stream"),
    ("eventstore", "seal"),
    ("eventstore", "chainverification"),
    ("eventstore", "projectioncheckpoint"),
    ("eventstore", "projectionerror"),
)
STAFF_ADDED_PERMISSIONS = (("payments", "request_payment_command"), ("payments", "view_approval"))
# The approvers' group as migration payments/0011_finance_approvers_group creates it.
APPROVERS_GROUP = "Finance approvers"
APPROVER_PERMISSIONS = (("payments", "approve_payment_command"), ("payments", "view_approval"))
# Importing settlement files and resolving findings (migration payments/0012_reconciliation).
FINANCE_RECONCILIATION_PERMISSIONS = ("view_reconciliation", "add_reconciliation", "view_finding", "change_finding")
ALL_ORGANIZATIONS = ("payments", "view_all_organizations")


def finance_staff_group() -> Group:
    """The group with its view permissions (made again if missing, as after a flushed test database)."""
    group, created = Group.objects.get_or_create(name=FINANCE_GROUP)
    if created:
        ContentType.objects.clear_cache()
        for app_config in apps.get_app_configs():
            create_permissions(app_config, verbosity=0)
        for app_label, model in FINANCE_VIEW_PERMISSIONS:
            group.permissions.add(_permission(app_label, f"view_{model}"))
        for codename in FINANCE_RECONCILIATION_PERMISSIONS:
            group.permissions.add(_permission("payments", codename))
        group.permissions.add(*(_permission(*each) for each in STAFF_ADDED_PERMISSIONS))
    return group


def finance_approvers_group() -> Group:
    """The approvers' group (made again if missing): what finance staff see, and the approver permission."""
    staff = finance_staff_group()
    group, created = Group.objects.get_or_create(name=APPROVERS_GROUP)
    if created:
        group.permissions.add(*staff.permissions.exclude(codename="request_payment_command"))
        group.permissions.add(*(_permission(*each) for each in APPROVER_PERMISSIONS))
    return group


@transaction.atomic
def create_finance_user(*, username: str, password: str, organizations: list[str] = (),
                        all_organizations: bool = False, approver: bool = False):
    """A staff user in the finance group (and, with `approver`, the approvers' group); a member of
    `organizations` (created if missing), or, with `all_organizations`, an operator who sees every
    organization. An existing user is updated."""
    user, _ = get_user_model().objects.get_or_create(username=username, defaults={"is_staff": True})
    user.is_staff = True
    user.set_password(password)
    user.save()
    user.groups.add(finance_staff_group())
    if approver:
        user.groups.add(finance_approvers_group())
    for organization_id in organizations:
        organization, _ = Organization.objects.get_or_create(id=organization_id, defaults={"name": organization_id})
        Membership.objects.get_or_create(user=user, organization=organization)
    if all_organizations:
        user.user_permissions.add(_permission(*ALL_ORGANIZATIONS))
    return user


def _permission(app_label: str, codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)
