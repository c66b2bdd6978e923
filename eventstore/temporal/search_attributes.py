"""The search attributes the apps' workflows carry (`eventstore.registry`), in the Temporal namespace.

A workflow started with a search attribute its namespace lacks is refused by the server. Every
place that meets that refusal says the same one line (`SearchAttributesMissing`), naming
`manage.py register_search_attributes`: the worker when it starts (after adding them itself where
the server lets it), and the apps' commands and API views that start workflows.
"""

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from eventstore import registry


class SearchAttributesMissing(Exception):
    """The namespace lacks search attributes the workflows carry: nothing was started."""

    def __init__(self, namespace: str, missing: list[str], refusal: str = ""):
        self.namespace = namespace
        self.missing = missing
        reason = f" (the server refused to add them: {refusal})" if refusal else ""
        super().__init__(
            f"Temporal namespace {namespace} lacks the search attributes {', '.join(missing)}{reason}: run "
            f"`manage.py register_search_attributes` once for it (on Temporal Cloud, add them with tcld or the Cloud UI)."
        )


async def missing_search_attributes(client: Client) -> list[str]:
    """The names of the declared search attributes the client's namespace lacks."""
    listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=client.namespace))
    return [key.name for key in registry.search_attributes() if key.name not in listed.custom_attributes]


async def add_search_attributes(client: Client, names: list[str]) -> None:
    """Add the declared search attributes `names` to the client's namespace. Raises RPCError when the
    server refuses (the client may not, or the namespace has no room left for their type)."""
    types = {key.name: IndexedValueType.ValueType(key.indexed_value_type) for key in registry.search_attributes()}
    await client.operator_service.add_search_attributes(AddSearchAttributesRequest(
        namespace=client.namespace, search_attributes={name: types[name] for name in names}))


async def ensure_search_attributes(client: Client) -> list[str]:
    """What the worker does when it starts: add the declared search attributes the namespace lacks,
    and return their names; SearchAttributesMissing when the server refuses to add them."""
    missing = await missing_search_attributes(client)
    if missing:
        try:
            await add_search_attributes(client, missing)
        except RPCError as error:
            raise SearchAttributesMissing(client.namespace, missing, refusal=error.message) from None
    return missing


async def explain_refused_start(client: Client, error: RPCError) -> Exception:
    """The error to raise for a workflow start the server refused with `error`: SearchAttributesMissing
    when the namespace lacks a declared search attribute, else `error` itself."""
    if error.status != RPCStatusCode.INVALID_ARGUMENT:
        return error
    try:
        missing = await missing_search_attributes(client)
    except RPCError:  # the operator service is closed to this client: the server's own words stand
        return error
    return SearchAttributesMissing(client.namespace, missing) if missing else error
