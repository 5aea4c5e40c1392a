"""Derived state checked against the logs: a table that authorizes or gates an action, rebuilt from the events
up to the position its follower reached, compared row by row (``aigov log verify --derived``).

Why: whoever can edit the database can also edit such a table (give an undesignated officer the CAIO's
rights, open the gate before operation) without touching a single event; the logs are verified, so the
tables must be checked against them too. Each service declares its rebuild in ``services/<svc>/derived.py``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.logreader import Envelope, read_all
from shared.timeutil import as_utc


@dataclass(frozen=True)
class RowDifference:
    table: str
    key: str
    column: str
    stored: Any
    rebuilt: Any

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "key": self.key,
            "column": self.column,
            "stored": _jsonable(self.stored),
            "rebuilt": _jsonable(self.rebuilt),
        }


def _jsonable(value: Any) -> Any:
    value = _normal(value)
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    return value if value is None or isinstance(value, int | float | str | bool) else str(value)


def _normal(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    return as_utc(value) if isinstance(value, datetime) else value


def entries_up_to(source: Any, position: int, batch: int = 1000) -> Iterator[Envelope]:
    """Every event of a log (a ``DatabaseLog``, or a service's own application) up to ``position``, in order."""
    return read_all(getattr(source, "log", source), batch_size=batch, up_to=position)


def compare_rows(
    table: str, stored: dict[str, dict[str, Any]], rebuilt: dict[str, dict[str, Any]]
) -> list[RowDifference]:
    """Each (row, column) whose stored value differs from the rebuilt one; a missing or extra row is one too."""
    differences = []
    for key in sorted(set(stored) | set(rebuilt)):
        if key not in stored or key not in rebuilt:
            differences.append(
                RowDifference(
                    table, key, "*", "present" if key in stored else None, "present" if key in rebuilt else None
                )
            )
            continue
        for column, value in rebuilt[key].items():
            if _normal(stored[key].get(column)) != _normal(value):
                differences.append(RowDifference(table, key, column, stored[key].get(column), value))
    return differences
