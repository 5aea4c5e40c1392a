"""RFC 9162 §2.1 Merkle tree hashing, inclusion and consistency proofs, and their verification.

Pure functions over bytes. Proof generation takes a ``NodeSource``: any function giving the hash of the
*perfect* subtree at ``(level, index)`` (leaves ``index·2^level`` to ``(index+1)·2^level - 1``). Those are exactly
the nodes ``store`` keeps, so every hash a proof or root needs is either one stored node or a fold of at most
⌈log2 n⌉ of them (the right edge of a tree whose size is not a power of two): O(log n) reads, never a rehash
of the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeKey = tuple[int, int]
NodeSource = Callable[[int, int], bytes]


def leaf_hash(leaf: bytes) -> bytes:
    """``SHA-256(0x00 ‖ leaf)``."""
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 ‖ left ‖ right)``."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(width: int) -> int:
    """The largest power of two smaller than ``width`` (RFC 9162's ``k``), for ``width > 1``."""
    return 1 << ((width - 1).bit_length() - 1)


def perfect_subtrees(start: int, end: int) -> list[NodeKey]:
    """The perfect subtrees, left to right, whose fold is ``MTH(D[start:end])`` (an RFC 9162 subtree range)."""
    keys = []
    while start < end:
        width = end - start
        level = width.bit_length() - 1
        if start % (1 << level):
            raise ValueError(f"range [{start}, {end}) is not a subtree of an RFC 9162 tree")
        keys.append((level, start >> level))
        start += 1 << level
    return keys


def subtree_hash(source: NodeSource, start: int, end: int) -> bytes:
    """``MTH(D[start:end])`` from perfect subtrees: one node, or a right-to-left fold of at most log2 n."""
    if start == end:
        return EMPTY_ROOT
    hashes = [source(level, index) for level, index in perfect_subtrees(start, end)]
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def root(source: NodeSource, size: int) -> bytes:
    return subtree_hash(source, 0, size)


def inclusion_proof(source: NodeSource, index: int, size: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1 ``PATH(index, D[size])``: sibling hashes from the leaf up."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            path.append(subtree_hash(source, start + k, end))
            end = start + k
        else:
            path.append(subtree_hash(source, start, start + k))
            start += k
    path.reverse()
    return path


def consistency_proof(source: NodeSource, old_size: int, new_size: int) -> list[bytes]:
    """RFC 9162 §2.1.4.1 ``PROOF(old_size, D[new_size])``; empty when either size is 0 or they are equal."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to {new_size}")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    start, end, m, complete = 0, new_size, old_size, True
    while m != end - start:
        k = split_point(end - start)
        if m <= k:
            proof.append(subtree_hash(source, start + k, end))
            end = start + k
        else:
            proof.append(subtree_hash(source, start, start + k))
            start, m, complete = start + k, m - k, False
    if not complete:
        proof.append(subtree_hash(source, start, end))
    proof.reverse()
    return proof


def needed_nodes(plan: Callable[[NodeSource], object]) -> list[NodeKey]:
    """The perfect subtrees a computation reads, found by running it against placeholder hashes.

    Lets ``store`` fetch every node a root or proof needs in one query instead of one per node."""
    keys: list[NodeKey] = []

    def record(level: int, index: int) -> bytes:
        keys.append((level, index))
        return EMPTY_ROOT

    plan(record)
    return list(dict.fromkeys(keys))


class ProofError(ValueError):
    """A proof that does not verify, with why."""


def _is_odd(value: int) -> bool:
    return value & 1 == 1


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root an inclusion proof leads to from a leaf hash."""
    if index >= size:
        raise ProofError(f"leaf index {index} is not below tree size {size}")
    fn, sn, result = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the tree is deep")
        if _is_odd(fn) or fn == sn:
            result = node_hash(sibling, result)
            while not _is_odd(fn) and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the tree is deep")
    return result


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], expected_root: bytes) -> None:
    if root_from_inclusion(index, size, leaf, path) != expected_root:
        raise ProofError("inclusion proof leads to another root")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 §2.1.4.2, plus the trivial cases: size 0 extends to anything, equal sizes need equal roots."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"size {new_size} cannot extend size {old_size}")
    if old_size == 0 or old_size == new_size:
        if proof:
            raise ProofError("a proof from an empty or equal tree must be empty")
        if old_size == new_size and old_root != new_root:
            raise ProofError("same size, different roots")
        return
    if not proof:
        raise ProofError("empty consistency proof")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    first, second = _consistency_roots(old_size, new_size, path)
    if first != old_root or second != new_root:
        raise ProofError("consistency proof does not lead to both roots")


def _consistency_roots(old_size: int, new_size: int, path: list[bytes]) -> tuple[bytes, bytes]:
    """Steps 3-6 of RFC 9162 §2.1.4.2: the old and new roots the proof leads to."""
    fn, sn = old_size - 1, new_size - 1
    while _is_odd(fn):
        fn, sn = fn >> 1, sn >> 1
    first = second = path[0]
    for hash_ in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if _is_odd(fn) or fn == sn:
            first, second = node_hash(hash_, first), node_hash(hash_, second)
            while not _is_odd(fn) and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            second = node_hash(second, hash_)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    return first, second


@dataclass
class CompactTree:
    """The right edge of a growing tree: O(log n) memory, roots at any size while streaming the leaves."""

    size: int = 0
    frontier: list[tuple[int, bytes]] = field(default_factory=list)

    def append(self, leaf: bytes) -> None:
        """Add a leaf hash (not the leaf's bytes)."""
        level, hash_ = 0, leaf
        while self.frontier and self.frontier[-1][0] == level:
            _, left = self.frontier.pop()
            hash_, level = node_hash(left, hash_), level + 1
        self.frontier.append((level, hash_))
        self.size += 1

    def root(self) -> bytes:
        if not self.frontier:
            return EMPTY_ROOT
        result = self.frontier[-1][1]
        for _, left in reversed(self.frontier[:-1]):
            result = node_hash(left, result)
        return result

    def extend(self, leaves: Iterable[bytes]) -> CompactTree:
        for leaf in leaves:
            self.append(leaf)
        return self


class MemoryTree:
    """Every perfect subtree of a list of leaf hashes, in memory: the offline prover of ``aigov audit prove``."""

    def __init__(self, leaves: Sequence[bytes]):
        self.levels: list[list[bytes]] = [list(leaves)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def node(self, level: int, index: int) -> bytes:
        return self.levels[level][index]

    def root(self, size: int | None = None) -> bytes:
        return root(self.node, self.size if size is None else size)
