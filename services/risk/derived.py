"""The risk service's derived state that authorizes actions: each ministry's current CAIO, as followed from the
registry log (only that officer may classify or decide). Rebuilt from the log for ``aigov log verify --derived``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.risk import tables
from shared.derived import RowDifference, compare_rows, entries_up_to


def rebuilt_designations(registry: Any, up_to: int) -> dict[str, dict[str, Any]]:
    """By event type and payload, as the registry publishes them: no registry class is imported here."""
    rows: dict[str, dict[str, Any]] = {}
    for entry in entries_up_to(registry, up_to):
        key = str(entry.aggregate_id)
        if entry.type == "MinistryEstablished":
            rows[key] = {"ministry": entry.data["code"], "caio_officer_id": None}
        elif entry.type == "ChiefAIOfficerDesignated" and key in rows:
            rows[key]["caio_officer_id"] = entry.data["officer_id"]
        elif entry.type == "ChiefAIOfficerRevoked" and key in rows:
            rows[key]["caio_officer_id"] = None
    return rows


def designation_differences(risk: Any, registry: Any) -> list[RowDifference]:
    """``risk_ministry_caios`` against the registry log up to the position the risk service followed."""
    followed = risk.recorder.max_tracking_id("registry") or 0
    table = tables.ministry_caios
    with risk.read_session() as session:
        stored = {
            str(row.ministry_id): {"ministry": row.ministry, "caio_officer_id": row.caio_officer_id}
            for row in session.execute(select(table))
        }
    return compare_rows("risk_ministry_caios", stored, rebuilt_designations(registry, followed))
