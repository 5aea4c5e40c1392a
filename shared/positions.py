"""Log positions a request produced or waits for: the ``Aigov-Position`` and ``Aigov-After`` headers.

Why: the three services meet only in their logs, so a write on one service becomes visible on another only
once that service's follower has processed it. A client that names the positions it has seen (``Aigov-After:
registry=57``) reads its own writes on every service; the position a write produced is what it names.

This module holds no service knowledge: the log names are whatever ``AuditedApplication.name`` says.
"""

from __future__ import annotations

import re
from contextvars import ContextVar

from shared.problems import Problem

POSITION_HEADER = "Aigov-Position"
AFTER_HEADER = "Aigov-After"
#: Positions are BIGINT on PostgreSQL and INTEGER (64-bit) on SQLite; one more than this would overflow ``after + 1``.
MAX_POSITION = 2**63 - 2
_ENTRY = re.compile(r"^([a-z][a-z0-9_-]{0,31})=([0-9]{1,19})$")

#: The positions the current request's commands recorded, per log (set by the web layer, filled by ``save``).
written_positions_var: ContextVar[dict[str, int] | None] = ContextVar("aigov_written_positions", default=None)


class InvalidPositions(Problem):
    status, slug, title = 400, "invalid-positions", "Unreadable Aigov-After header"


def note_written(log: str, position: int) -> None:
    """Remember that this request recorded ``position`` in ``log`` (no-op outside a request, e.g. followers)."""
    written = written_positions_var.get()
    if written is not None:
        written[log] = max(position, written.get(log, 0))


def format_positions(positions: dict[str, int]) -> str:
    """``{"registry": 57, "risk": 112}`` → ``registry=57,risk=112`` (sorted, so equal maps give equal headers)."""
    return ",".join(f"{log}={position}" for log, position in sorted(positions.items()))


def parse_positions(value: str, known: frozenset[str]) -> dict[str, int]:
    """``registry=57,risk=112`` → positions per log; 400 naming the header for anything else, including a log
    this service neither owns nor follows (it could never wait for it) and positions beyond a 64-bit integer."""
    positions: dict[str, int] = {}
    for part in (piece.strip() for piece in value.split(",")):
        match = _ENTRY.match(part)
        if match is None or int(match.group(2)) > MAX_POSITION:
            raise _invalid(f"{AFTER_HEADER} entries are log=position with a position up to {MAX_POSITION}: {part!r}.")
        log, position = match.group(1), int(match.group(2))
        if log not in known:
            raise _invalid(f"{AFTER_HEADER} names log {log!r}; this service reads {', '.join(sorted(known))}.")
        positions[log] = max(position, positions.get(log, 0))
    return positions


def _invalid(detail: str) -> InvalidPositions:
    return InvalidPositions(
        detail, errors=[{"field": f"header.{AFTER_HEADER}", "message": detail, "type": "invalid_positions"}]
    )
