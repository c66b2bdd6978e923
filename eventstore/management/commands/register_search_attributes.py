"""`manage.py register_search_attributes`: add the search attributes the apps' workflows carry
(payments: PaymentId, OrganizationId, CommandType) to the Temporal namespace.

Run once per namespace of a real Temporal cluster where the worker may not add them itself (the
worker adds the missing ones when it starts, where the server lets it); it adds only the missing
ones, so a second run changes nothing. On Temporal Cloud, add them in the Cloud UI or with
`tcld namespace search-attributes add` instead: the Cloud API keys of a namespace may not.
"""

from django.core.management.base import CommandError
from temporalio.service import RPCError

from eventstore import registry
from eventstore.temporal.command_line import TemporalCommand
from eventstore.temporal.connection import TemporalUnavailable, connect, shared_loop
from eventstore.temporal.search_attributes import add_search_attributes, missing_search_attributes


class Command(TemporalCommand):
    help = "Register the search attributes of the apps' workflows in the Temporal namespace (idempotent)."

    def handle(self, *args, **options):
        try:
            added = shared_loop().run(self._register(), timeout=60)
        except (TemporalUnavailable, RPCError) as error:
            raise CommandError(str(error)) from None
        names = ", ".join(key.name for key in registry.search_attributes())
        self.stdout.write(f"added {', '.join(added)}" if added else f"{names} were already registered")

    async def _register(self) -> list[str]:
        client = await connect()
        missing = await missing_search_attributes(client)
        if missing:
            await add_search_attributes(client, missing)
        return missing
