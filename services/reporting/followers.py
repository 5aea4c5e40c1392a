"""How reporting's read models follow the registry and risk logs (one handler per upstream log)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.registry.domain import Ministry, Project
from services.reporting import tables
from services.risk.domain import ProjectRisk, RiskStatus
from shared.eventlog import LogEntry


def on_registry_event(session: Session, entry: LogEntry) -> None:
    """Project registry facts into the inventory and the ministries' current CAIO."""
    event = entry.event
    if isinstance(event, Ministry.MinistryEstablished):
        session.execute(tables.ministries.insert().values(ministry=event.code, ministry_id=event.originator_id, name=event.name))
    elif isinstance(event, Ministry.ChiefAIOfficerDesignated):
        _set_caio(session, event, event.officer_id, event.name)
    elif isinstance(event, Ministry.ChiefAIOfficerRevoked):
        _set_caio(session, event, None, None)
    elif isinstance(event, Project.ProjectRegistered):
        session.execute(
            tables.inventory.insert().values(
                project_id=event.originator_id,
                ministry=event.ministry,
                title=event.details["title"],
                stage="planning",
                registry_position=entry.position,
                registered_at=event.timestamp,
                updated_at=event.timestamp,
            )
        )
    elif isinstance(event, (Project.ProjectAmended, Project.ProjectStageChanged, Project.ProcurementRecorded)):
        values: dict[str, Any] = {"registry_position": entry.position, "updated_at": event.timestamp}
        if isinstance(event, Project.ProjectAmended) and "title" in event.changes:
            values["title"] = event.changes["title"]
        if isinstance(event, Project.ProjectStageChanged):
            values["stage"] = event.to_stage
        session.execute(update(tables.inventory).where(tables.inventory.c.project_id == event.originator_id).values(**values))


def _set_caio(session: Session, event: Any, officer_id: str | None, name: str | None) -> None:
    table = tables.ministries
    session.execute(update(table).where(table.c.ministry_id == event.originator_id).values(caio_officer_id=officer_id, caio_name=name))


def risk_status_after(event: Any, current: str | None) -> str | None:
    """The risk status a ProjectRisk event leaves a project in (None: unchanged), mirroring ``ProjectRisk``."""
    if isinstance(event, ProjectRisk.RiskEvaluationBecameDue):
        return RiskStatus.due.value
    if isinstance(event, ProjectRisk.AssessmentStarted):
        return RiskStatus.in_progress.value if current == RiskStatus.due.value else None
    if isinstance(event, ProjectRisk.ProjectClassified):
        return (RiskStatus.classified_high if event.classification == "high" else RiskStatus.classified_not_high).value
    if isinstance(event, ProjectRisk.ClassificationBecameStale):
        return RiskStatus.stale.value
    if isinstance(event, ProjectRisk.IncidentNoted) and event.severity in ("high", "critical") and current in CLASSIFIED_VALUES:
        return RiskStatus.stale.value
    return None


CLASSIFIED_VALUES = frozenset({RiskStatus.classified_high.value, RiskStatus.classified_not_high.value})


def on_risk_event(session: Session, entry: LogEntry) -> None:
    """Project risk facts into each project's risk status."""
    event = entry.event
    table = tables.project_risk
    if isinstance(event, ProjectRisk.RiskEvaluationBecameDue):
        session.execute(table.insert().values(project_id=event.project_id, risk_id=event.originator_id, risk_status=RiskStatus.due.value, risk_position=entry.position, updated_at=event.timestamp))
        return
    if not isinstance(event, ProjectRisk.Event):
        return
    current = session.execute(select(table.c.risk_status).where(table.c.risk_id == event.originator_id)).scalar_one_or_none()
    status = risk_status_after(event, current)
    values: dict[str, Any] = {"risk_position": entry.position, "updated_at": event.timestamp}
    if status is not None:
        values["risk_status"] = status
    session.execute(update(table).where(table.c.risk_id == event.originator_id).values(**values))
