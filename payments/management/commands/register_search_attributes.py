"""`manage.py register_search_attributes`: add PaymentId, OrganizationId and CommandType to the namespace.

Run once per namespace of a real Temporal cluster (the embedded dev server starts with them); it adds
only the missing ones, so a second run changes nothing. On Temporal Cloud, add them in the Cloud UI or
with `tcld namespace search-attributes add` instead: the Cloud API keys of a namespace may not.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.service import RPCError

from eventstore.temporal.connection import TemporalUnavailable, connect, shared_loop
from payments.search_attributes import KEYS


class Command(BaseCommand):
    help = "Register the search attributes of payment command workflows in the Temporal namespace (idempotent)."

    def handle(self, *args, **options):
        try:
            added = shared_loop().run(self._register(), timeout=60)
        except (TemporalUnavailable, RPCError) as error:
            raise CommandError(str(error)) from None
        names = ", ".join(key.name for key in KEYS)
        self.stdout.write(f"added {', '.join(added)}" if added else f"{names} were already registered")

    async def _register(self) -> list[str]:
        client = await connect()
        namespace = settings.TEMPORAL_NAMESPACE
        listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
        missing = [key.name for key in KEYS if key.name not in listed.custom_attributes]
        if missing:
            await client.operator_service.add_search_attributes(AddSearchAttributesRequest(
                namespace=namespace,
                search_attributes={name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for name in missing},
            ))
        return missing
