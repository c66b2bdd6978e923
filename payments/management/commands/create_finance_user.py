"""`manage.py create_finance_user USER (--organization ORG ... | --all-organizations) [--approver] [--password P]`"""

import secrets

from django.core.management.base import BaseCommand, CommandError

from payments.staff import create_finance_user


class Command(BaseCommand):
    help = ("Create (or update) an admin user of the Finance staff group who sees the payments of the given "
            "organizations, or, with --all-organizations, an operator who sees every organization.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--organization", action="append", default=[],
                            help="Organization id the user belongs to (created if missing); repeatable.")
        parser.add_argument("--all-organizations", action="store_true",
                            help="An operator: sees every organization (payments.view_all_organizations).")
        parser.add_argument("--approver", action="store_true",
                            help="Also of the Finance approvers group: approves or rejects refunds and cancels.")
        parser.add_argument("--password", help="The password (default: a generated one, printed once).")

    def handle(self, *args, username, organization, all_organizations, approver, password, **options):
        if not organization and not all_organizations:
            raise CommandError("Give --organization ORG (repeatable) or --all-organizations: "
                               "a finance user with neither would see no payment.")
        password = password or secrets.token_urlsafe(12)
        create_finance_user(username=username, password=password, organizations=organization,
                            all_organizations=all_organizations, approver=approver)
        scope = "every organization" if all_organizations else ", ".join(organization)
        self.stdout.write(f"{username} can log in to /admin/ with password {password} and sees {scope}.")
