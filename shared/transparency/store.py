"""A log's Merkle tree stored beside its events: appended in the inserting transaction, read in O(log n).

``<service>_tree_nodes`` holds the hash of every perfect subtree (level 0: leaf hashes); ``<service>_tree_leaves``
maps each leaf to its log position. Appending ``k`` events reads the O(log n) right-edge nodes once and inserts
``k`` leaves and about ``k`` inner nodes; a root or a proof reads at most 2·log2 n nodes in one query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from shared.schema import TREE_LEAF_TABLES, TREE_NODE_TABLES
from shared.transparency import merkle


def tree_size(session: Session, service: str) -> int:
    leaves = TREE_LEAF_TABLES[service]
    last = session.execute(select(func.max(leaves.c.leaf_index))).scalar_one_or_none()
    return 0 if last is None else last + 1


def fetch_nodes(session: Session, service: str, keys: Iterable[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    wanted = list(keys)
    if not wanted:
        return {}
    nodes = TREE_NODE_TABLES[service]
    # OR of (level, index) pairs, not a row-value IN: SQLite scans the whole table for the latter.
    keys = or_(*(and_(nodes.c.level == level, nodes.c.node_index == index) for level, index in wanted))
    rows = session.execute(select(nodes.c.level, nodes.c.node_index, nodes.c.hash).where(keys))
    return {(level, index): bytes(hash_) for level, index, hash_ in rows}


def right_edge(size: int) -> list[merkle.NodeKey]:
    """The perfect subtrees a tree of ``size`` leaves decomposes into: all an append needs to read."""
    return merkle.perfect_subtrees(0, size)


def append_leaves(session: Session, service: str, positions: Sequence[int], leaves: Sequence[bytes]) -> int:
    """Add one leaf per event (its canonical bytes) and every perfect subtree it completes; returns the new size.

    Runs inside the events' own transaction, where the library already serialises writers to the log."""
    size = tree_size(session, service)
    known = fetch_nodes(session, service, right_edge(size))
    node_rows: list[dict[str, Any]] = []
    leaf_rows: list[dict[str, Any]] = []
    for position, leaf in zip(positions, leaves, strict=True):
        level, index, hash_ = 0, size, merkle.leaf_hash(leaf)
        leaf_rows.append({"leaf_index": size, "position": position})
        while True:
            known[(level, index)] = hash_
            node_rows.append({"level": level, "node_index": index, "hash": hash_})
            if index % 2 == 0:
                break
            hash_ = merkle.node_hash(known[(level, index - 1)], hash_)
            level, index = level + 1, index // 2
        size += 1
    if leaf_rows:
        session.execute(TREE_LEAF_TABLES[service].insert(), leaf_rows)
        session.execute(TREE_NODE_TABLES[service].insert(), node_rows)
    return size


class MissingNode(LookupError):
    """A node the tree should hold is not stored (the tree tables were tampered with or not backfilled)."""


def _computed(session: Session, service: str, plan: Callable[[merkle.NodeSource], Any]) -> Any:
    """Run ``plan`` (a root or proof computation) after fetching every node it reads in one query."""
    nodes = fetch_nodes(session, service, merkle.needed_nodes(plan))

    def source(level: int, index: int) -> bytes:
        try:
            return nodes[(level, index)]
        except KeyError:
            raise MissingNode(f"{service} tree node ({level}, {index}) is missing") from None

    return plan(source)


@dataclass(frozen=True)
class InclusionProof:
    position: int
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    hashes: list[bytes]

    def as_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "leaf_hash": self.leaf_hash.hex(),
            "hashes": [hash_.hex() for hash_ in self.hashes],
        }


class TreeReader:
    """Roots and proofs of one log's stored tree, each from one short read transaction."""

    def __init__(self, service: str, read_session: Callable[[], AbstractContextManager[Session]]):
        self.service = service
        self.read_session = read_session

    def size(self) -> int:
        with self.read_session() as session:
            return tree_size(session, self.service)

    def head(self) -> tuple[int, bytes]:
        """The current size and root, read in one transaction."""
        with self.read_session() as session:
            size = tree_size(session, self.service)
            return size, _computed(session, self.service, lambda source: merkle.root(source, size))

    def root(self, size: int) -> bytes:
        with self.read_session() as session:
            return _computed(session, self.service, lambda source: merkle.root(source, size))

    def leaf_index(self, position: int) -> int | None:
        leaves = TREE_LEAF_TABLES[self.service]
        with self.read_session() as session:
            return session.execute(
                select(leaves.c.leaf_index).where(leaves.c.position == position)
            ).scalar_one_or_none()

    def inclusion(self, position: int, size: int) -> InclusionProof | None:
        """The proof that the event at ``position`` is leaf ``leaf_index`` of the tree of ``size`` leaves."""
        leaves = TREE_LEAF_TABLES[self.service]
        with self.read_session() as session:
            index = session.execute(
                select(leaves.c.leaf_index).where(leaves.c.position == position)
            ).scalar_one_or_none()
            if index is None or index >= size:
                return None
            leaf, path = _computed(
                session,
                self.service,
                lambda source: (source(0, index), merkle.inclusion_proof(source, index, size)),
            )
        return InclusionProof(position, index, size, leaf, path)

    def consistency(self, old_size: int, new_size: int) -> list[bytes]:
        with self.read_session() as session:
            return _computed(session, self.service, lambda source: merkle.consistency_proof(source, old_size, new_size))
