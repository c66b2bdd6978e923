"""The ledger's JSON API: signed tree heads, consistency proofs, the public key and the chain of keys.

Heads and consistency proofs are hashes of the whole log and say nothing of any one event, so
every authenticated client may read them. An event's inclusion proof is served with the event
(`eventstore.api.events`), to those who may see it; its schema is here with the head's.
"""

from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from eventstore.ledger import keys, proofs
from eventstore.ledger.models import TreeHead
from eventstore.ledger.selectors import head_of_size, heads_newest_first
from eventstore.ledger.service import head_document
from eventstore.web.pagination import limit_field, next_link, position_cursor, position_cursor_field, position_of

MAX_TREE_SIZE = 2**62


class TreeHeadSerializer(serializers.Serializer):
    tree_size = serializers.IntegerField(help_text="How many events (leaves) the signed tree holds.")
    timestamp = serializers.CharField(help_text="When it was signed: ISO 8601, UTC, microseconds, as signed.")
    root_hash = serializers.CharField(help_text="RFC 9162 Merkle tree root, lowercase hex.")
    streams_root = serializers.CharField(help_text="Root of the tree of every stream's newest entry, lowercase hex.")
    signature = serializers.CharField(
        help_text="Ed25519 over the compact key-sorted JSON of the four fields above, hex.")
    public_key = serializers.CharField(help_text="The raw Ed25519 public key, hex.")
    key_id = serializers.CharField(help_text="SHA-256 of the raw public key, hex (not signed: derived).")


class KeyStatementSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    tree_size = serializers.IntegerField(help_text="The previous key signs heads up to this size, the next one beyond.")
    timestamp = serializers.CharField(help_text="From this time the next key signs; the previous one no more.")
    previous_key_id = serializers.CharField()
    previous_public_key = serializers.CharField()
    next_key_id = serializers.CharField(allow_null=True, help_text="Null: the previous key retired with no successor.")
    next_public_key = serializers.CharField(allow_null=True)
    signature = serializers.CharField(help_text="Ed25519 by the previous key over the documented statement, hex.")


class KeyPeriodSerializer(serializers.Serializer):
    key_id = serializers.CharField()
    public_key = serializers.CharField()
    valid_from_tree_size = serializers.IntegerField(help_text="The smallest head it signs.")
    valid_until_tree_size = serializers.IntegerField(allow_null=True, help_text="The largest; null while current.")
    valid_from = serializers.CharField(allow_null=True, help_text="Null for the first key.")
    valid_until = serializers.CharField(allow_null=True, help_text="Null while current.")
    introduced_by = KeyStatementSerializer(allow_null=True)
    retired_by = KeyStatementSerializer(allow_null=True)


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


InclusionProofSerializer = inline_serializer("InclusionProof", {
    "leaf_index": serializers.IntegerField(),
    "tree_size": serializers.IntegerField(),
    "audit_path": serializers.ListField(child=serializers.CharField(), help_text="Hex, from the leaf up."),
    "head": TreeHeadSerializer(),
})


def as_not_found(refusal: proofs.ProofRefused) -> Exception:
    """A proof refused, as the API answers it: a 404 that says why, except that it says nothing of
    an event the caller may not see, nor of a ledger with no head yet."""
    if isinstance(refusal, (proofs.NoSuchEvent, proofs.NoSignedHead)):
        return Http404()
    return NotFound(str(refusal))


def newest_head() -> TreeHead:
    try:
        return proofs.newest_head_holding()
    except proofs.ProofRefused as refusal:
        raise as_not_found(refusal) from None


class TreeHeadListView(APIView):
    @extend_schema(operation_id="ledger_heads_list", parameters=[HeadPageQuery],
                   summary="Signed tree heads, newest first; cursor-paginated",
                   responses=inline_serializer("TreeHeadPage", {
                       "results": TreeHeadSerializer(many=True), "next": serializers.URLField(allow_null=True)}))
    def get(self, request):
        query = HeadPageQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        cursor = params.get("cursor")
        taken = heads_newest_first(smaller_than=position_of(cursor) if cursor else None, limit=params["limit"] + 1)
        shown = taken[: params["limit"]]
        next_cursor = position_cursor(shown[-1].tree_size) if len(taken) > params["limit"] else None
        return Response({"results": [head_document(head) for head in shown], "next": next_link(request, next_cursor)})


class LatestTreeHeadView(APIView):
    @extend_schema(responses=TreeHeadSerializer, summary="The newest signed tree head")
    def get(self, request):
        return Response(head_document(newest_head()))


class TreeHeadView(APIView):
    @extend_schema(responses=TreeHeadSerializer, summary="The signed tree head of one size")
    def get(self, request, tree_size: int):
        head = head_of_size(tree_size)
        if head is None:
            raise Http404("No head of this size was signed.")
        return Response(head_document(head))


class ConsistencyProofView(APIView):
    @extend_schema(parameters=[ConsistencyQuery], summary="RFC 9162 consistency proof between two tree sizes",
                   responses=inline_serializer("ConsistencyProof", {
                       "first": serializers.IntegerField(), "second": serializers.IntegerField(),
                       "consistency_path": serializers.ListField(child=serializers.CharField()),
                       "head": TreeHeadSerializer()}))
    def get(self, request):
        query = ConsistencyQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            return Response(proofs.consistency_proof(query.validated_data["first"], query.validated_data["second"]))
        except proofs.ProofRefused as refusal:
            raise as_not_found(refusal) from None


class PublicKeyView(APIView):
    @extend_schema(summary="The Ed25519 public key that signs tree heads",
                   responses=inline_serializer("LedgerPublicKey", {
                       "public_key": serializers.CharField(), "key_id": serializers.CharField(),
                       "algorithm": serializers.CharField()}))
    def get(self, request):
        head = newest_head()
        return Response({"public_key": head.public_key, "key_id": head.key_id, "algorithm": "Ed25519"})


class KeyListView(APIView):
    @extend_schema(summary="Every signing key, the first first, with the head sizes and times it signs",
                   responses=inline_serializer("LedgerKeys", {"results": KeyPeriodSerializer(many=True)}))
    def get(self, request):
        return Response({"results": [keys.period_document(period) for period in keys.key_periods()]})
