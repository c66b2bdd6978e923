"""The ledger's JSON API: signed tree heads, consistency proofs and the public key.

Heads and consistency proofs are hashes of the whole log and say nothing of any one event, so
every authenticated client may read them; an event's inclusion proof is answered by the app that
knows who may see the event (`event_proof` below builds its body).
"""

from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from eventstore.ledger import service as ledger
from eventstore.web.pagination import limit_field, next_link, position_cursor, position_cursor_field, position_of
from eventstore.ledger.models import TreeHead

MAX_TREE_SIZE = 2**62


class TreeHeadSerializer(serializers.Serializer):
    tree_size = serializers.IntegerField(help_text="How many events (leaves) the signed tree holds.")
    timestamp = serializers.CharField(help_text="When it was signed: ISO 8601, UTC, microseconds, as signed.")
    root_hash = serializers.CharField(help_text="RFC 9162 Merkle tree root, lowercase hex.")
    streams_root = serializers.CharField(help_text="Root of the tree of every stream's newest entry, lowercase hex.")
    signature = serializers.CharField(help_text="Ed25519 over the compact key-sorted JSON of the four fields above, hex.")
    public_key = serializers.CharField(help_text="The raw Ed25519 public key, hex.")


def head_body(head: TreeHead) -> dict:
    return ledger.head_document(head)


class HeadPageQuery(serializers.Serializer):
    cursor = position_cursor_field()
    limit = limit_field()


class TreeSizeQuery(serializers.Serializer):
    tree_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_TREE_SIZE,
                                         help_text="A signed head's size; default: the newest head.")


class ConsistencyQuery(serializers.Serializer):
    first = serializers.IntegerField(min_value=1, max_value=MAX_TREE_SIZE)
    second = serializers.IntegerField(min_value=1, max_value=MAX_TREE_SIZE,
                                      help_text="A tree size up to the newest signed head.")

    def validate(self, attrs):
        if attrs["first"] > attrs["second"]:
            raise ValidationError({"first": "first must not be greater than second."})
        return attrs


def signed_head_at_least(tree_size: int | None) -> TreeHead:
    """The newest head, which must hold `tree_size` leaves; a clear 404 otherwise."""
    head = ledger.latest_head()
    if head is None:
        raise Http404("No tree head is signed yet.")
    if tree_size is not None and tree_size > head.tree_size:
        raise NotFound(f"No signed head holds {tree_size} events yet: the newest holds {head.tree_size}.")
    return head


def proof_head(tree_size: int | None) -> TreeHead:
    """The signed head of exactly `tree_size` (default: the newest), which a proof refers to."""
    newest = signed_head_at_least(tree_size)
    if tree_size is None:
        return newest
    head = TreeHead.objects.filter(tree_size=tree_size).first()
    if head is None:
        raise NotFound("No head of this size was signed; ask for one of GET ledger/heads/.")
    return head


def event_proof(ledger_index: int | None, tree_size: int | None) -> dict:
    """The inclusion proof body of the event at `ledger_index` against the signed head of `tree_size`."""
    head = proof_head(tree_size)
    if ledger_index is None or ledger_index >= head.tree_size:
        raise NotFound("The event is not in this head yet: ask again after the next head is signed.")
    path = ledger.inclusion_proofs([ledger_index], head.tree_size)[ledger_index]
    return {"leaf_index": ledger_index, "tree_size": head.tree_size, "audit_path": [node.hex() for node in path],
            "head": head_body(head)}


InclusionProofSerializer = inline_serializer("InclusionProof", {
    "leaf_index": serializers.IntegerField(),
    "tree_size": serializers.IntegerField(),
    "audit_path": serializers.ListField(child=serializers.CharField(), help_text="Hex, from the leaf up."),
    "head": TreeHeadSerializer(),
})


class TreeHeadListView(APIView):
    @extend_schema(operation_id="ledger_heads_list", parameters=[HeadPageQuery],
                   summary="Signed tree heads, newest first; cursor-paginated",
                   responses=inline_serializer("TreeHeadPage", {
                       "results": TreeHeadSerializer(many=True), "next": serializers.URLField(allow_null=True)}))
    def get(self, request):
        query = HeadPageQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        heads = TreeHead.objects.order_by("-tree_size")
        if params.get("cursor"):
            heads = heads.filter(tree_size__lt=position_of(params["cursor"]))
        taken = list(heads[: params["limit"] + 1])
        shown = taken[: params["limit"]]
        cursor = position_cursor(shown[-1].tree_size) if len(taken) > params["limit"] else None
        return Response({"results": [head_body(head) for head in shown], "next": next_link(request, cursor)})


class LatestTreeHeadView(APIView):
    @extend_schema(responses=TreeHeadSerializer, summary="The newest signed tree head")
    def get(self, request):
        return Response(head_body(signed_head_at_least(None)))


class TreeHeadView(APIView):
    @extend_schema(responses=TreeHeadSerializer, summary="The signed tree head of one size")
    def get(self, request, tree_size: int):
        head = TreeHead.objects.filter(tree_size=tree_size).first()
        if head is None:
            raise Http404("No head of this size was signed.")
        return Response(head_body(head))


class ConsistencyProofView(APIView):
    @extend_schema(parameters=[ConsistencyQuery], summary="RFC 9162 consistency proof between two tree sizes",
                   responses=inline_serializer("ConsistencyProof", {
                       "first": serializers.IntegerField(), "second": serializers.IntegerField(),
                       "consistency_path": serializers.ListField(child=serializers.CharField()),
                       "head": TreeHeadSerializer()}))
    def get(self, request):
        query = ConsistencyQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        first, second = query.validated_data["first"], query.validated_data["second"]
        head = signed_head_at_least(second)
        path = ledger.consistency_proof(first, second)
        return Response({"first": first, "second": second, "consistency_path": [node.hex() for node in path],
                         "head": head_body(head)})


class PublicKeyView(APIView):
    @extend_schema(summary="The Ed25519 public key that signs tree heads",
                   responses=inline_serializer("LedgerPublicKey", {"public_key": serializers.CharField()}))
    def get(self, request):
        head = signed_head_at_least(None)
        return Response({"public_key": head.public_key, "algorithm": "Ed25519"})
