"""One pass over a log's stored rows that checks its hash chain and grows its Merkle tree together.

``aigov log verify`` used to read the log twice (the chain, then the tree) and both passes built the same
canonical bytes. Here each row's canonical bytes are built once and give both the chain link (checked against the
stored link) and the RFC 9162 leaf hash (fed to ``LeafChecker``, which compares the tree with every trusted
checkpoint). The rows are the driver's own tuples, a page at a time, so the same function runs over a log read
from its tables and over the same rows already in memory (what ``make bench`` compares).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from shared.hashchain import GENESIS_HASH, VerificationResult, canonical_bytes
from shared.transparency.audit import LeafChecker, TreeCheck, TrustedHead

#: ``(position, originator id, originator version, topic, stored state, stored link)`` as the drivers return
#: them: the id as canonical text (PostgreSQL casts it) or as its 16 stored bytes (SQLite); the link may be None.
Row = Sequence[Any]
LeafSink = Callable[[int, bytes], None]

NO_LINK = "no stored hash for this event"
MISMATCH = "stored event bytes or chain link do not match the recomputed hash"


@dataclass(frozen=True)
class LogCheck:
    """The chain's verdict (first bad position) and, when trusted heads were given, the tree's."""

    chain: VerificationResult
    tree: TreeCheck | None


def uuid_text(value: bytes) -> str:
    """The canonical text of a UUID stored as 16 bytes."""
    digits = value.hex()
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


#: One page framed for hashing: the positions, each event's canonical bytes and the stored links.
Frame = tuple[list[int], list[bytes], list[str | None]]


def frame_page(page: Sequence[Row]) -> Frame:
    """A page of driver rows → its frame: each row's canonical bytes (``shared.hashchain.canonical_bytes``'; a
    test holds them equal), built once for both the chain link and the Merkle leaf."""
    positions: list[int] = []
    links: list[str | None] = []
    events: list[bytes] = []
    for position, originator_id, version, topic, state, stored in page:
        kind = originator_id.__class__
        if kind is bytes:  # SQLite's 16 bytes (any other length was altered: its hex can never match)
            identity = uuid_text(originator_id) if len(originator_id) == 16 else originator_id.hex()
            events.append(f"{position}\n{identity}\n{version}\n{topic}\n".encode() + state)
        elif kind is str:
            events.append(f"{position}\n{originator_id}\n{version}\n{topic}\n".encode() + state)
        else:  # anything else (a UUID, an id stored in another form): the reference function's normalisation
            events.append(canonical_bytes(position, originator_id, version, topic, state))
        positions.append(position)
        links.append(stored)
    return positions, events, links


def walk(frames: Iterable[Frame], add_leaf: LeafSink | None, previous_hash: str) -> VerificationResult:
    """Every link, in order, up to the first that does not match; with ``add_leaf`` every row's leaf hash too,
    to the end (a rewritten history can keep the chain intact)."""
    sha256 = hashlib.sha256
    previous = previous_hash.encode("ascii")
    checked, head = 0, None
    failure: VerificationResult | None = None
    for positions, events, links in frames:
        for position, event, stored in zip(positions, events, links, strict=True):
            if failure is None:
                link = sha256(previous + event).hexdigest()
                if link == stored:
                    previous, head = link.encode("ascii"), position
                    checked += 1
                else:
                    problem = NO_LINK if stored is None else MISMATCH
                    failure = VerificationResult(False, checked, head, previous.decode(), position, problem)
                    if add_leaf is None:
                        return failure
            if add_leaf is not None:
                add_leaf(position, sha256(b"\x00" + event).digest())
    return failure or VerificationResult(True, checked, head, previous.decode("ascii"))


def check_frames(
    frames: Iterable[Frame], trusted: list[TrustedHead] | None, previous_hash: str = GENESIS_HASH
) -> LogCheck:
    """The chain; with ``trusted`` (a list, maybe empty) also the tree and its roots at the trusted sizes."""
    checker = LeafChecker(trusted) if trusted is not None else None
    chain = walk(frames, checker.add if checker is not None else None, previous_hash)
    return LogCheck(chain, checker.finish() if checker is not None else None)


def check_pages(
    pages: Iterable[Sequence[Row]], trusted: list[TrustedHead] | None, previous_hash: str = GENESIS_HASH
) -> LogCheck:
    """``check_frames`` over driver rows, each page framed as it comes (one process)."""
    return check_frames(map(frame_page, pages), trusted, previous_hash)
