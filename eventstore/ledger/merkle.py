"""RFC 9162 Merkle trees (section 2.1): hashing, and which subtrees a root or proof is made of. Pure Python.

Leaves hash as SHA-256(0x00 || data) and interior nodes as SHA-256(0x01 || left || right); a tree of
n > 1 leaves splits at k, the largest power of two below n. Every subtree that this recursion reaches
starts at a multiple of a power of two at least its size, so it is a run of perfect subtrees, each
identified by (level, index): leaves [index * 2**level, (index + 1) * 2**level). A store keeps those
hashes once (the ledger's `LedgerNode`, or `MemoryTree` here), and a root or proof reads O(log n)
of them: the tree is never rebuilt.

Proofs are produced here; they are verified by separate code (`eventstore/ledger/verifier.py`).
"""

import hashlib
from typing import Callable, Iterable, Mapping

Range = tuple[int, int]  # leaves [start, end)
NodeKey = tuple[int, int]  # (level, index)

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(size: int) -> int:
    """The largest power of two smaller than `size` (> 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def perfect_subtrees(start: int, end: int) -> list[NodeKey]:
    """The perfect subtrees that make up leaves [start, end), left to right."""
    keys = []
    while start < end:
        level = (end - start).bit_length() - 1
        while start % (1 << level):
            level -= 1
        keys.append((level, start >> level))
        start += 1 << level
    return keys


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtrees whose hashes are the audit path of leaf `index` in a tree of `size` leaves, from
    the leaf up (PATH(m, D[n]) of RFC 9162 section 2.1.3.1)."""
    ranges, start, end = [], 0, size
    while end - start > 1:
        k = split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return ranges[::-1]


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The subtrees whose hashes prove that the tree of `second` leaves extends the tree of `first`
    (PROOF(m, D[n]) of RFC 9162 section 2.1.4.1); empty when first is 0 or equals second."""
    if not 0 < first < second:
        return []
    ranges, start, end, m, whole = [], 0, second, first, True
    while m != end - start:
        k = split(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        ranges.append((start, end))
    return ranges[::-1]


def needed_nodes(ranges: Iterable[Range]) -> set[NodeKey]:
    return {key for start, end in ranges for key in perfect_subtrees(start, end)}


def range_hash(start: int, end: int, nodes: Mapping[NodeKey, bytes]) -> bytes:
    """MTH of leaves [start, end), folded from the stored perfect subtrees."""
    if start == end:
        return EMPTY_ROOT
    hashes = [nodes[key] for key in perfect_subtrees(start, end)]
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


def resolve(ranges: list[Range], fetch: Callable[[set[NodeKey]], Mapping[NodeKey, bytes]]) -> list[bytes]:
    """The hashes of `ranges`, reading every node they need with one call of `fetch`."""
    nodes = fetch(needed_nodes(ranges))
    return [range_hash(start, end, nodes) for start, end in ranges]


class MemoryTree:
    """A whole tree in memory, as its perfect subtrees: for small trees built at once (stream heads)."""

    def __init__(self, leaf_hashes: list[bytes]):
        self.size = len(leaf_hashes)
        self.levels = [list(leaf_hashes)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])

    def nodes(self, keys: set[NodeKey]) -> dict[NodeKey, bytes]:
        return {(level, index): self.levels[level][index] for level, index in keys}

    def root(self) -> bytes:
        return range_hash(0, self.size, self.nodes(set(perfect_subtrees(0, self.size))))

    def inclusion_proof(self, index: int) -> list[bytes]:
        return resolve(inclusion_ranges(index, self.size), self.nodes)


class CompactRange:
    """The root of a growing tree from its leaves in order, keeping only O(log n) perfect subtrees:
    for streaming checks over the whole ledger."""

    def __init__(self):
        self.size = 0
        self._subtrees: list[bytes] = []  # the perfect subtrees of `size`, largest first

    @classmethod
    def of_subtrees(cls, size: int, subtrees: list[bytes]) -> "CompactRange":
        """The range of the first `size` leaves, from its perfect subtrees (`perfect_subtrees(0, size)`),
        to be extended leaf by leaf."""
        compact = cls()
        compact.size, compact._subtrees = size, list(subtrees)
        return compact

    def append(self, leaf: bytes) -> None:
        node, size = leaf, self.size
        while size & 1:
            node = node_hash(self._subtrees.pop(), node)
            size >>= 1
        self._subtrees.append(node)
        self.size += 1

    def root(self) -> bytes:
        if not self._subtrees:
            return EMPTY_ROOT
        root = self._subtrees[-1]
        for left in reversed(self._subtrees[:-1]):
            root = node_hash(left, root)
        return root
