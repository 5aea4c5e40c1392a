"""The tamper-evident hash chain over a log: pure functions shared by writers, verifiers and the export CLI.

Each event's link is ``sha256(previous link ‖ canonical bytes of the event)``. The canonical bytes include
the event's log position, so a reordered, removed or edited event breaks the chain at that position.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple
from uuid import UUID

GENESIS_HASH = "0" * 64


def canonical_bytes(
    position: int, originator_id: UUID | str, originator_version: int, topic: str, state: bytes
) -> bytes:
    """The exact bytes that are hashed for one stored event (header lines, then the stored state)."""
    identity = (
        originator_id if isinstance(originator_id, UUID) or _canonical(originator_id) else UUID(str(originator_id))
    )
    header = f"{position}\n{identity}\n{originator_version}\n{topic}\n".encode()
    return header + state


def _canonical(originator_id: object) -> bool:
    """Whether an id is already text in the UUID's own form (verifiers read ids as text: no UUID per event)."""
    return (
        isinstance(originator_id, str)
        and len(originator_id) == 36
        and originator_id[8] == originator_id[13] == originator_id[18] == originator_id[23] == "-"
        and originator_id == originator_id.lower()
    )


def link(previous_hash: str, event_bytes: bytes) -> str:
    """The chain link of an event given the link before it."""
    return hashlib.sha256(previous_hash.encode("ascii") + event_bytes).hexdigest()


class ChainedRecord(NamedTuple):
    """What a verifier needs of one event: its canonical fields and the link stored beside it.

    A named tuple, not a dataclass: verifiers build one per event, hundreds of thousands per second."""

    position: int
    originator_id: UUID | str
    originator_version: int
    topic: str
    state: bytes
    stored_hash: str | None


@dataclass(frozen=True)
class VerificationResult:
    """``ok`` or the first position that does not match, with why."""

    ok: bool
    checked: int
    head_position: int | None
    head_hash: str
    first_bad_position: int | None = None
    problem: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head_position": self.head_position,
            "head_hash": self.head_hash,
            "first_bad_position": self.first_bad_position,
            "problem": self.problem,
        }


def verify_chain(records: Iterable[ChainedRecord], previous_hash: str = GENESIS_HASH) -> VerificationResult:
    """Recompute every link in order and stop at the first record whose bytes or link disagree."""
    checked = 0
    head_position: int | None = None
    for record in records:
        if record.stored_hash is None:
            return VerificationResult(
                False, checked, head_position, previous_hash, record.position, "no stored hash for this event"
            )
        expected = link(
            previous_hash,
            canonical_bytes(
                record.position, record.originator_id, record.originator_version, record.topic, record.state
            ),
        )
        if expected != record.stored_hash:
            return VerificationResult(
                False,
                checked,
                head_position,
                previous_hash,
                record.position,
                "stored event bytes or chain link do not match the recomputed hash",
            )
        previous_hash = expected
        head_position = record.position
        checked += 1
    return VerificationResult(True, checked, head_position, previous_hash)
