"""Checking a log against checkpoints published earlier: does it still extend every one of them?

One streaming pass over the leaves (O(n) hashing, O(log n) memory): at each trusted size the recomputed root
must equal the trusted root. The first trusted size that no longer matches means ``rewritten``; a trusted size
beyond the log's end means ``truncated``. The first position concerned is the first leaf after the largest
trusted size that still matches (or the position after the log's last event when that leaf is gone).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import httpx

from shared.hashchain import canonical_bytes
from shared.transparency import merkle
from shared.transparency.note import Note, NoteError, SignatureType, SignedCheckpoint, Verifier
from shared.transparency.publish import Witness


class Finding(StrEnum):
    TRUNCATED = "truncated"
    REWRITTEN = "rewritten"


@dataclass(frozen=True)
class TrustedHead:
    """A tree size and root hash someone vouched for (a witness, a saved checkpoint), and where it came from."""

    size: int
    root: bytes
    source: str


@dataclass
class TreeCheck:
    ok: bool
    tree_size: int
    root: str
    checked_against: int
    finding: Finding | None = None
    first_position: int | None = None
    detail: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "finding": self.finding.value if self.finding else None}


@dataclass
class LeafChecker:
    """Feed it ``(position, leaf hash)`` in log order, then ``finish()``."""

    trusted: list[TrustedHead]
    tree: merkle.CompactTree = field(default_factory=merkle.CompactTree)
    matched_size: int = 0
    first_after_match: int | None = None
    last_position: int = 0
    failure: TreeCheck | None = None
    _next: int = 0
    _due: int = -1  # the tree size at which the next comparison is due (-1: none is)

    def __post_init__(self) -> None:
        self.trusted = sorted(self.trusted, key=lambda head: head.size)
        self._due = self.trusted[0].size if self.trusted else -1

    def _compare(self) -> None:
        self._due = -1
        while self.failure is None and self._next < len(self.trusted):
            head = self.trusted[self._next]
            if head.size != self.tree.size:
                self._due = head.size
                return
            if self.tree.root() != head.root:
                self.failure = self._failed(
                    Finding.REWRITTEN, f"the first {head.size} leaves no longer have the root {head.source} vouched for"
                )
                return
            self.matched_size, self.first_after_match = head.size, None
            self._next += 1

    def add(self, position: int, leaf: bytes) -> None:
        """Grow the tree (always: the export's own checkpoint is checked against all of it) and compare when the
        tree has reached the next trusted size (a comparison per leaf cost a fifth of a verification)."""
        if self.tree.size == self._due:
            self._compare()
        if self.first_after_match is None and self.tree.size == self.matched_size:
            self.first_after_match = position
        self.tree.append(leaf)
        self.last_position = position

    def _failed(self, finding: Finding, detail: str) -> TreeCheck:
        """First position concerned: the first leaf after the largest trusted size still matched; for a log cut
        short with no smaller trusted size to narrow it down, the position after its last event."""
        vague_cut = finding == Finding.TRUNCATED and self._next == 0
        first = self.first_after_match
        if first is None or vague_cut:
            first = self.last_position + 1
        return TreeCheck(False, self.tree.size, self.tree.root().hex(), self._next, finding, first, detail)

    def finish(self) -> TreeCheck:
        self._compare()
        if self.failure is not None:
            return self.failure
        if self._next < len(self.trusted):
            head = self.trusted[-1]
            return self._failed(
                Finding.TRUNCATED, f"the log has {self.tree.size} leaves but {head.source} vouched for {head.size}"
            )
        return TreeCheck(True, self.tree.size, self.tree.root().hex(), len(self.trusted))


def check_records(records: Iterable[Any], trusted: list[TrustedHead]) -> TreeCheck:
    """``records``: the log's ``ChainedRecord``s in order (``AuditedApplication.iter_chained_records``)."""
    checker = LeafChecker(trusted)
    for record in records:
        leaf = canonical_bytes(
            record.position, record.originator_id, record.originator_version, record.topic, record.state
        )
        checker.add(record.position, merkle.leaf_hash(leaf))
    return checker.finish()


def heads_from_notes(
    notes: Iterable[str], log_key: Verifier | None, witnesses: list[Verifier], source: str
) -> Iterator[TrustedHead]:
    """The checkpoints among ``notes`` that a trusted key signed (the log's, or any witness's cosignature)."""
    for raw in notes:
        signed = SignedCheckpoint.parse(raw)
        vouched = []
        for verifier in ([log_key] if log_key else []) + witnesses:
            if signed.note.signed_by(verifier):
                signed.note.verify(verifier)
                vouched.append(verifier.name)
        if vouched:
            yield TrustedHead(signed.checkpoint.size, signed.checkpoint.root, f"{source} ({', '.join(vouched)})")


def witnessed_heads(witnesses: list[Witness], origin: str) -> tuple[list[TrustedHead], list[str]]:
    """Every checkpoint each witness says it cosigned for ``origin``, kept only if its cosignature verifies."""
    heads: list[TrustedHead] = []
    problems: list[str] = []
    for witness in witnesses:
        try:
            response = httpx.get(f"{witness.url}/checkpoints", params={"origin": origin}, timeout=10)
            response.raise_for_status()
            heads += heads_from_notes(response.json(), None, [witness.verifier], f"witness {witness.name}")
        except (httpx.HTTPError, NoteError, ValueError) as error:
            problems.append(f"witness {witness.name}: {error}")
    return heads, problems


def cosigned_rows_heads(
    rows: Iterable[tuple[int, str, str]], origin: str, witnesses: list[Witness]
) -> list[TrustedHead]:
    """Cosignatures the service stored (size, root, line) that verify with a configured witness key."""
    import base64

    from shared.transparency.note import Checkpoint

    by_name = {witness.name: witness.verifier for witness in witnesses}
    heads = []
    for size, root_b64, line in rows:
        checkpoint = Checkpoint(origin, size, base64.b64decode(root_b64))
        note = Note(checkpoint.text(), ()).with_signatures([line])
        for signature in note.signatures:
            verifier = by_name.get(signature.name)
            if verifier is not None:
                try:
                    note.verify(verifier)
                except NoteError:
                    continue
                heads.append(
                    TrustedHead(size, checkpoint.root, f"cosignature of {verifier.name} stored by the service")
                )
    return heads


def witness_verifiers(vkeys: Iterable[str]) -> list[Verifier]:
    verifiers = [Verifier.from_vkey(vkey) for vkey in vkeys]
    for verifier in verifiers:
        if verifier.kind != SignatureType.COSIGNATURE_V1:
            raise NoteError(f"{verifier.name}: a witness key must be a cosignature/v1 (type 0x04) vkey")
    return verifiers


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
