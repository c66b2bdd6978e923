"""`manage.py create_api_token USER [--organization ORG ...]`"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token

from payments.models import Membership, Organization


class Command(BaseCommand):
    help = "Print USER's API token (created if missing); --organization adds memberships (created if missing)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--organization", action="append", default=[], help="Organization id; repeatable.")
        parser.add_argument("--create-user", action="store_true", help="Create the user if it does not exist.")
        parser.add_argument("--rotate", action="store_true", help="Replace an existing token.")

    def handle(self, *args, username, organization, create_user, rotate, **options):
        users = get_user_model()
        user = users.objects.filter(username=username).first()
        if user is None:
            if not create_user:
                raise CommandError(f"No user {username!r}; pass --create-user to create one.")
            user = users.objects.create_user(username=username)
        for organization_id in organization:
            org, _ = Organization.objects.get_or_create(id=organization_id, defaults={"name": organization_id})
            Membership.objects.get_or_create(user=user, organization=org)
        if rotate:
            Token.objects.filter(user=user).delete()
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
