"""`manage.py create_api_token USER [--name NAME] [--organization ORG ...] [--role ROLE ...] [--expires DAYS|DATE]`"""

from datetime import UTC, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from payments import tokens
from payments.models import ApiToken, Membership, Organization


def expiry(text: str) -> datetime:
    """A number of days from now, or a date or date and time (naive: UTC)."""
    if text.isdigit():
        return timezone.now() + timedelta(days=int(text))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--expires takes a number of days or a date, e.g. 30 or 2027-03-31; not {text!r}.") from None
    if len(text) == 10:  # a date: the token works through that day
        moment = datetime.combine(moment.date(), time.max)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = ("Create an API token of USER and print its key (shown this once; only its hash is kept). --organization "
            "limits it to those organizations, making USER a member if needed; without it the token covers every "
            "organization USER may see. Roles: read, submit, approve (default: read and submit).")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="What the token is for (default: command line).")
        parser.add_argument("--organization", action="append", default=[],
                            help="Organization id; repeatable. Created, and USER made a member, if missing.")
        parser.add_argument("--role", action="append", choices=list(tokens.ROLES), default=[],
                            help="read, submit or approve; repeatable (default: read and submit).")
        parser.add_argument("--expires", type=expiry,
                            help="Days from now or a date (default: API_TOKEN_DEFAULT_LIFETIME_DAYS days).")
        parser.add_argument("--create-user", action="store_true", help="Create the user if it does not exist.")
        parser.add_argument("--rotate", action="store_true", help="Revoke USER's live tokens of the same name first.")

    @transaction.atomic
    def handle(self, *args, username, name, organization, role, expires, create_user, rotate, **options):
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
            revoked = tokens.revoke_api_tokens(ApiToken.objects.filter(user=user, name=name))
            self.stderr.write(f"Revoked {revoked} token(s) of {username} named {name!r}.")
        try:
            issued = tokens.issue_api_token(user=user, name=name, roles=role or tokens.DEFAULT_ROLES,
                                            organization_ids=organization, all_organizations=not organization,
                                            expires_at=expires)
        except ValueError as error:
            raise CommandError(str(error)) from None
        token = issued.token
        scope = ", ".join(organization) if organization else f"every organization {username} may see"
        self.stderr.write(f"Token {token.credential_id} ({name!r}) of {username}: {', '.join(token.roles)} for {scope}, "
                          f"until {token.expires_at:%Y-%m-%d %H:%M} UTC. The key below is shown only now.")
        self.stdout.write(issued.key)
