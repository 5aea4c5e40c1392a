"""The registry's derived state that gates an action: ``registry_risk_gate`` (the gate before operation), from
its own log (registrations, material amendments) and the risk log up to the position it followed. Rebuilt
with the follower's own rule (``RiskPolicy._gate_change``) for ``aigov log verify --derived``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.registry import tables
from services.registry.followers import RiskPolicy
from services.risk.contract import project_risk_id
from shared.derived import RowDifference, compare_rows, entries_up_to

GATE_COLUMNS = (
    "risk_id",
    "classification",
    "classification_current",
    "expires_at",
    "board_advice_recorded",
    "decision",
    "classified_registry_position",
    "last_material_position",
    "risk_position",
)


def rebuilt_gate(registry: Any, risk: Any, risk_followed: int) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for entry in entries_up_to(registry, registry.head_position()):
        key = str(entry.aggregate_id)
        if entry.type == "ProjectRegistered":
            rows[key] = dict.fromkeys(GATE_COLUMNS) | {
                "risk_id": str(project_risk_id(entry.aggregate_id)),
                "classification_current": False,
                "board_advice_recorded": False,
            }
        elif (entry.type == "ProjectAmended" and entry.data["material"]) or entry.type == "ModelChangeNoticed":
            rows[key]["last_material_position"] = entry.position
    by_risk = {row["risk_id"]: row for row in rows.values()}
    for entry in entries_up_to(risk, risk_followed):
        values, risk_id = RiskPolicy.gate_change(entry), RiskPolicy.risk_id_of(entry)
        row = by_risk.get(str(risk_id))
        if values is not None and row is not None:
            row.update(values, risk_position=entry.position)
    return rows


def gate_differences(registry: Any, risk: Any) -> list[RowDifference]:
    followed = registry.factory.tracking_recorder().max_tracking_id("risk") or 0
    table = tables.risk_gate
    with registry.read_session() as session:
        stored = {
            str(row.project_id): {column: _plain(getattr(row, column)) for column in GATE_COLUMNS}
            for row in session.execute(select(table))
        }
    return compare_rows("registry_risk_gate", stored, rebuilt_gate(registry, risk, followed))


def _plain(value: Any) -> Any:
    return str(value) if value is not None and type(value).__name__ == "UUID" else value
