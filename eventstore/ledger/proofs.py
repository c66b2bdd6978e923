"""The ledger's proofs as its clients carry them: that an event is in a signed tree head (inclusion)
and that a signed head extends a smaller tree (consistency). The API, the admin's download and the
audit bundle all take their proofs from here.

An inclusion proof refers to one head, chosen one way for every caller: the signed head of exactly
the requested tree size; without one, the newest signed head. The newest is the head a verifier
compares with the heads it keeps (RFC 9162 clients ask for proofs against their latest head), and
the one the audit bundle proves against.

An event is proved only to callers whose organizations include its own (`organization_ids` None:
every organization); to anyone else it does not exist, and the refusal says no more than for an
event that does not.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from eventstore.events import RecordedEvent
from eventstore.ledger import service as ledger
from eventstore.ledger.models import TreeHead
from eventstore.ledger.selectors import head_of_size, ledger_indexes


class ProofRefused(Exception):
    """No proof can be given; the message says why."""


class NoSuchEvent(ProofRefused):
    """No such event, or one of an organization outside the caller's: the same answer for both."""


class NoSignedHead(ProofRefused):
    """No tree head is signed yet."""


class NoSuchHead(ProofRefused):
    """No head of the requested size was signed (or none holds that many events yet)."""


class NotInHead(ProofRefused):
    """The event's leaf is not in the chosen head: it was added later, or has no ledger index yet."""


@dataclass(frozen=True)
class InclusionProof:
    event: RecordedEvent
    leaf_index: int
    head: TreeHead
    audit_path: list[str]  # hex, from the leaf up

    def document(self) -> dict:
        """The proof as the API answers it: the leaf, the tree size, the audit path and the signed head."""
        return {"leaf_index": self.leaf_index, "tree_size": self.head.tree_size, "audit_path": self.audit_path,
                "head": ledger.head_document(self.head)}

    def document_with_event(self) -> dict:
        """The proof with the event it proves (id, stream, version, hash), to be kept on its own."""
        event = self.event
        return {"event_id": str(event.event_id), "stream_id": event.stream_id, "version": event.version,
                "hash": event.hash, **self.document()}


def newest_head_holding(tree_size: int | None = None) -> TreeHead:
    """The newest signed head, which must hold at least `tree_size` events if given."""
    head = ledger.latest_head()
    if head is None:
        raise NoSignedHead("No tree head is signed yet.")
    if tree_size is not None and tree_size > head.tree_size:
        raise NoSuchHead(f"No signed head holds {tree_size} events yet: the newest holds {head.tree_size}.")
    return head


def proof_head(tree_size: int | None = None) -> TreeHead:
    """The head an inclusion proof refers to: the signed head of exactly `tree_size`, else the newest."""
    newest = newest_head_holding(tree_size)
    if tree_size is None or tree_size == newest.tree_size:
        return newest
    head = head_of_size(tree_size)
    if head is None:
        raise NoSuchHead("No head of this size was signed; ask for one of GET ledger/heads/.")
    return head


def inclusion_proof(event: RecordedEvent | None, *, organization_ids: Collection[str] | None,
                    tree_size: int | None = None) -> InclusionProof:
    """The proof that `event` (None: one that was not found) is in the head `proof_head` chooses for
    `tree_size`, for a caller who sees `organization_ids`."""
    if event is None or not _visible(event, organization_ids):
        raise NoSuchEvent("No such event.")
    head = proof_head(tree_size)
    index = ledger_indexes([event.position])[event.position]
    if index is None or index >= head.tree_size:
        raise NotInHead("The event is not in this head yet: ask again after the next head is signed.")
    return InclusionProof(event, index, head, audit_paths([index], head.tree_size)[index])


def _visible(event: RecordedEvent, organization_ids: Collection[str] | None) -> bool:
    return organization_ids is None or event.metadata.get("organization_id") in organization_ids


def audit_paths(leaf_indexes: Iterable[int], tree_size: int) -> dict[int, list[str]]:
    """The audit paths (hex, from the leaf up) of many leaves in the tree of `tree_size`, with one
    read of the stored nodes."""
    paths = ledger.inclusion_proofs(leaf_indexes, tree_size)
    return {index: [node.hex() for node in path] for index, path in paths.items()}


def consistency_path(first: int, second: int) -> list[str]:
    """The RFC 9162 consistency proof (hex) between the trees of `first` and `second` leaves."""
    return [node.hex() for node in ledger.consistency_proof(first, second)]


def consistency_proof(first: int, second: int) -> dict:
    """The consistency proof between two tree sizes as the API answers it, with the newest signed
    head, which must hold `second` events."""
    head = newest_head_holding(second)
    return {"first": first, "second": second, "consistency_path": consistency_path(first, second),
            "head": ledger.head_document(head)}
