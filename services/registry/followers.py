"""What the registry does with the risk service's events: it keeps the gate before operation, and a CAIO's
decision to discontinue retires the project.

It reads the risk log through the risk service's published contract only (``services.risk.contract``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.registry import tables
from services.registry.application import RegistryApplication
from services.registry.contract import Stage
from services.risk import contract as risk
from shared.logreader import Envelope
from shared.meta import EventMeta

CONTRACT = risk.RISK
BOARD_STEPS = tuple(risk.LEGACY_BOARD_NAMES.values())
LEGACY_BOARD_STEPS = tuple(risk.LEGACY_BOARD_NAMES)


class RiskPolicy:
    """Projects the risk outcome of each project into ``registry_risk_gate``."""

    def __init__(self, registry: RegistryApplication):
        self.registry = registry

    def __call__(self, session: Session, entry: Envelope) -> None:
        gate = tables.risk_gate
        values, risk_id = self.gate_change(entry), self.risk_id_of(entry)
        if risk_id is None:
            return
        if entry.type == "ProjectClassified":
            self._reconsider_sheets(session, entry, risk_id, values or {})
        if values is not None:
            changed = update(gate).where(gate.c.risk_id == risk_id).values(risk_position=entry.position, **values)
            session.execute(changed)
        decision = entry.type in ("CaioDecisionRecorded", "MinistryDecisionRecorded")
        if decision and risk.Decision(entry.data["decision"]) is risk.Decision.discontinue:
            self._retire(entry, risk_id)

    @staticmethod
    def risk_id_of(entry: Envelope) -> UUID | None:
        """The project risk id a risk event is about: its aggregate's, but for a Board step recorded on its
        submission, whose version 2 names the project (None for version 1: the legacy project-level event of
        the same save carries that step)."""
        if entry.type in BOARD_STEPS:
            project_id = risk.board_step_project(entry.type, entry.data)
            return risk.project_risk_id(project_id) if project_id else None
        return entry.aggregate_id

    @staticmethod
    def gate_change(entry: Envelope) -> dict[str, Any] | None:
        """The gate's columns one risk event changes (also rebuilt from the log by ``aigov log verify --derived``),
        for the row ``risk_id_of(entry)`` names."""
        if entry.type == "ProjectClassified":
            classified = CONTRACT.parse(entry.type, entry.data, risk.ProjectClassified)
            return {
                "classification": classified.classification.value,
                "classification_current": True,
                "classified_registry_position": classified.registry_position,
                "expires_at": classified.expires_at,
                **RiskPolicy._board_values(entry),
            }
        if entry.type == "ClassificationBecameStale":
            return {"classification_current": False}
        if entry.type == "IncidentNoted" and risk.is_severe(entry.data["severity"]):
            return {"classification_current": False}
        if entry.type in BOARD_STEPS or entry.type in LEGACY_BOARD_STEPS:
            return RiskPolicy._board_values(entry)
        return None

    @staticmethod
    def _board_values(entry: Envelope) -> dict[str, Any]:
        """The gate's columns after a Board event: whether advice is recorded, and the CAIO's decision.

        Each of these events sets the Board status whatever it was (``risk.board_status_after``)."""
        status = risk.board_status_after(entry.type, entry.data, risk.BoardStatus.not_required)
        decided = status in (risk.BoardStatus.decided, risk.BoardStatus.resubmission_required)
        return {
            "board_advice_recorded": risk.board_advice_recorded(status),
            "decision": entry.data["decision"] if decided else None,
        }

    def _reconsider_sheets(self, session: Session, entry: Envelope, risk_id: UUID, values: dict[str, Any]) -> None:
        """A classification that makes high-risk items apply reopens the project's answered sheets."""
        gate = tables.risk_gate
        row = session.execute(
            select(gate.c.project_id, gate.c.classification).where(gate.c.risk_id == risk_id)
        ).first()
        if row is None or row.classification == values["classification"]:
            return
        project = self.registry.get_project(row.project_id)
        cause = f"classified {values['classification']} (risk position {entry.position})"
        meta = EventMeta.system("registry", cause, project.ministry, entry.correlation_id)
        self.registry.reconsider_sheets(row.project_id, row.classification, values["classification"], meta)

    def _retire(self, entry: Envelope, risk_id: UUID) -> None:
        project_id = self._project_of(risk_id)
        if project_id is None:
            return
        project = self.registry.get_project(project_id)
        if project.stage == Stage.retired:
            return
        reason = (
            f"CAIO decided to discontinue (risk position {entry.position}): {entry.meta.reason if entry.meta else ''}"
        )
        meta = EventMeta.system("registry", reason.strip(), project.ministry, entry.correlation_id)
        project.transition(Stage.retired, meta)
        self.registry._save_project(project)

    def _project_of(self, risk_id: UUID) -> Any:
        gate = tables.risk_gate
        with self.registry.read_session() as session:
            return session.execute(select(gate.c.project_id).where(gate.c.risk_id == risk_id)).scalar_one_or_none()
