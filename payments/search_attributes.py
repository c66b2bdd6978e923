"""The Temporal search attributes every payment command workflow carries, so that an operator finds
every workflow of a payment (or an organization, or a command type) in the Temporal UI.

They must exist in the namespace before a workflow uses them: the embedded dev server is started
with them (`--search-attribute`); on a real cluster the worker adds them when it starts, where the
server lets it, and otherwise `manage.py register_search_attributes` does, once per namespace (the
app declares them in `eventstore.registry`).
"""

import json
from urllib.parse import quote

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

PAYMENT_ID = SearchAttributeKey.for_keyword("PaymentId")
ORGANIZATION_ID = SearchAttributeKey.for_keyword("OrganizationId")
COMMAND_TYPE = SearchAttributeKey.for_keyword("CommandType")
KEYS = (PAYMENT_ID, ORGANIZATION_ID, COMMAND_TYPE)


def dev_server_flags() -> list[str]:
    """`temporal server start-dev` arguments that register every key."""
    return [flag for key in KEYS for flag in ("--search-attribute", f"{key.name}=Keyword")]


def for_command(*, payment_id: str | None, organization_id: str, command_type: str) -> TypedSearchAttributes:
    """The values of one command, its payment id as the request holds it: canonical, or as sent when
    it is no id (the workflow refuses it; the operator finds the refusal under that text). A CREATE
    without a payment id yet carries none."""
    pairs = [SearchAttributePair(ORGANIZATION_ID, organization_id), SearchAttributePair(COMMAND_TYPE, command_type)]
    if payment_id:
        pairs.insert(0, SearchAttributePair(PAYMENT_ID, payment_id[:200]))
    return TypedSearchAttributes(pairs)


def temporal_ui_link(ui_url: str, namespace: str, payment_id: str) -> str:
    """The Temporal UI's list of a payment's workflows."""
    query = quote(f"{PAYMENT_ID.name}=" + json.dumps(payment_id))
    return f"{ui_url.rstrip('/')}/namespaces/{quote(namespace)}/workflows?query={query}"
