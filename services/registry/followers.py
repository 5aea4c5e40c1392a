"""What the registry does with the risk service's events: it keeps the gate before operation, and a CAIO's
decision to discontinue retires the project."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.registry import tables
from services.registry.application import RegistryApplication
from services.registry.domain import Stage
from services.risk.domain import Decision, ProjectRisk
from shared.eventlog import LogEntry
from shared.meta import EventMeta


class RiskPolicy:
    """Projects the risk outcome of each project into ``registry_risk_gate``."""

    def __init__(self, registry: RegistryApplication):
        self.registry = registry

    def __call__(self, session: Session, entry: LogEntry) -> None:
        event = entry.event
        gate = tables.risk_gate
        values = self._gate_change(event)
        if values is not None:
            session.execute(
                update(gate).where(gate.c.risk_id == event.originator_id).values(risk_position=entry.position, **values)
            )
        if isinstance(event, ProjectRisk.MinistryDecisionRecorded) and event.decision == Decision.discontinue:
            self._retire(event, entry)

    @staticmethod
    def _gate_change(event: Any) -> dict[str, Any] | None:
        if isinstance(event, ProjectRisk.ProjectClassified):
            return {
                "classification": event.classification,
                "classification_current": True,
                "classified_registry_position": event.registry_position,
                "expires_at": datetime.fromisoformat(event.expires_at),
                "board_advice_recorded": False,
                "decision": None,
            }
        if isinstance(event, ProjectRisk.ClassificationBecameStale):
            return {"classification_current": False}
        if isinstance(event, ProjectRisk.IncidentNoted) and event.severity in ("high", "critical"):
            return {"classification_current": False}
        if isinstance(event, ProjectRisk.SubmittedToAdvisoryBoard):
            return {"board_advice_recorded": False, "decision": None}
        if isinstance(event, ProjectRisk.AdvisoryBoardAdviceReceived):
            return {"board_advice_recorded": True}
        if isinstance(event, ProjectRisk.MinistryDecisionRecorded):
            return {"decision": event.decision}
        return None

    def _retire(self, event: Any, entry: LogEntry) -> None:
        project_id = self._project_of(event.originator_id)
        if project_id is None:
            return
        project = self.registry.get_project(project_id)
        if project.stage is Stage.retired:
            return
        meta = EventMeta.system(
            "registry",
            f"CAIO decided to discontinue (risk position {entry.position}): {event.meta.reason or ''}".strip(),
            project.ministry,
            event.meta.correlation_id,
        )
        project.transition(Stage.retired, meta)
        self.registry._save_project(project)

    def _project_of(self, risk_id: Any) -> Any:
        gate = tables.risk_gate
        with self.registry.read_session() as session:
            return session.execute(select(gate.c.project_id).where(gate.c.risk_id == risk_id)).scalar_one_or_none()
