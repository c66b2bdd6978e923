"""The Merkle tree's roots and proofs equal an independent, literal reading of RFC 9162."""

import pytest

from eventstore.ledger import merkle
from eventstore.ledger import verifier as ledger_verifier
from tests.eventstore import merkle_reference as reference

LEAVES = [f"leaf {index}".encode() for index in range(40)]


def tree(size: int) -> merkle.MemoryTree:
    return merkle.MemoryTree([merkle.leaf_hash(data) for data in LEAVES[:size]])


def test_the_empty_tree_has_the_hash_of_nothing():
    assert merkle.MemoryTree([]).root() == reference.mth([])


@pytest.mark.parametrize("size", range(1, 41))
def test_roots_and_audit_paths_match_the_reference(size):
    built = tree(size)
    assert built.root() == reference.mth(LEAVES[:size])
    for index in range(size):
        assert built.inclusion_proof(index) == reference.path(index, LEAVES[:size])


@pytest.mark.parametrize("second", range(2, 41))
def test_consistency_proofs_match_the_reference(second):
    built = tree(second)
    for first in range(1, second):
        mine = merkle.resolve(merkle.consistency_ranges(first, second), built.nodes)
        assert mine == reference.proof(first, LEAVES[:second]), (first, second)


def test_an_rfc_example_tree_of_seven_leaves():
    """RFC 9162 section 2.1.5: the audit path of d0 in the tree of seven is [b, h, l]; the
    consistency proof from three to seven is [c, d, g, l]."""
    built = tree(7)
    leaf, node = merkle.leaf_hash, merkle.node_hash
    a, b, c, d, e, f, j = (leaf(data) for data in LEAVES[:7])
    g, h, i = node(a, b), node(c, d), node(e, f)
    k, l = node(g, h), node(i, j)
    assert built.inclusion_proof(0) == [b, h, l]
    assert merkle.resolve(merkle.consistency_ranges(3, 7), built.nodes) == [c, d, g, l]
    assert merkle.resolve(merkle.consistency_ranges(4, 7), built.nodes) == [l]
    assert built.root() == node(k, l)


def test_a_compact_range_has_every_prefix_root_of_the_reference():
    compact = merkle.CompactRange()
    for size in range(1, 41):
        compact.append(merkle.leaf_hash(LEAVES[size - 1]))
        assert compact.root() == reference.mth(LEAVES[:size])


@pytest.mark.parametrize("size", range(0, 41))
def test_the_offline_verifiers_root_matches_the_reference(size):
    assert ledger_verifier.root_of([merkle.leaf_hash(data) for data in LEAVES[:size]]) == reference.mth(LEAVES[:size])
