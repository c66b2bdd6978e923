"""`manage.py set_aside_event`: set aside the event a projection is stopped at, so that it goes on."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from eventstore.projections.set_aside import PERMISSION, SetAsideRefused, set_aside


class Command(BaseCommand):
    help = (
        "Set aside the event a projection is stopped at (see projection_status): the projection passes "
        "over it, marks the read-model rows that lack it as incomplete, and goes on. Records who, when and "
        f"why; the operator named by --by needs the permission {PERMISSION}."
    )

    def add_arguments(self, parser):
        parser.add_argument("projection", help="The projection's name, e.g. payment_summary.")
        parser.add_argument("position", type=int, help="The position of the event it is stopped at.")
        parser.add_argument("--reason", required=True, help="Why the event is set aside (kept with it).")
        parser.add_argument("--by", required=True, metavar="USERNAME", help="The operator setting it aside.")

    def handle(self, *args, projection, position, reason, by, **options):
        try:
            user = get_user_model().objects.get_by_natural_key(by)
        except get_user_model().DoesNotExist:
            raise CommandError(f"There is no user {by!r}.") from None
        try:
            record, outcome = set_aside(projection=projection, position=position, reason=reason, user=user)
        except (PermissionDenied, SetAsideRefused) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(
            f"Set aside {record.stream_id} v{record.version} {record.event_type} (position {position}) for "
            f"{projection}; it then applied {outcome.applied} events"
            + (f" and stopped again at position {outcome.failed_at}." if outcome.failed_at else ".")))
