"""Two organizations, two API clients with tokens, and an operator who sees everything."""

from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.management import create_permissions
from django.contrib.contenttypes.models import ContentType
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from payments.models import Membership, Organization


@dataclass
class Tenants:
    acme: APIClient
    globex: APIClient
    operator: APIClient
    anonymous: APIClient


def client_for(username: str, organization: str | None = None, *, operator: bool = False) -> APIClient:
    user = get_user_model().objects.create_user(username=username, password="pw")
    if organization:
        org, _ = Organization.objects.get_or_create(id=organization, defaults={"name": organization.title()})
        Membership.objects.create(user=user, organization=org)
    if operator:
        user.user_permissions.add(operator_permission())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def operator_permission() -> Permission:
    """Transactional tests empty every table, permissions included: make them again when missing."""
    if not Permission.objects.filter(codename="view_all_organizations").exists():
        ContentType.objects.clear_cache()
        create_permissions(apps.get_app_config("payments"), verbosity=0)
    return Permission.objects.get(codename="view_all_organizations")


def tenants() -> Tenants:
    return Tenants(client_for("alice", "org-acme"), client_for("bob", "org-globex"),
                   client_for("olga", operator=True), APIClient())
