"""What the risk service does with the registry's events: evaluations fall due, classifications go stale."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.registry.domain import Project
from services.risk.application import RiskApplication
from services.risk.domain import ProjectRisk
from shared.eventlog import LogEntry
from shared.meta import EventMeta


class RegistryPolicy:
    """Turns registry facts into risk facts, recorded atomically with the registry position they answer."""

    def __init__(self, risk: RiskApplication):
        self.risk = risk

    def __call__(self, session: Session, entry: LogEntry) -> None:
        domain_event = entry.event
        correlation_id = entry.meta.correlation_id if entry.meta else None
        if isinstance(domain_event, Project.ProjectRegistered):
            cause = f"project registered (registry position {entry.position})"
            risk = ProjectRisk(
                project_id=domain_event.originator_id,
                ministry=domain_event.ministry,
                cause=cause,
                meta=EventMeta.system("risk", cause, domain_event.ministry, correlation_id),
            )
            self.risk.save(risk)
        elif isinstance(domain_event, Project.ProjectAmended) and domain_event.material:
            risk = self.risk.find_project_risk(domain_event.originator_id)
            if risk is None:
                return
            cause = f"material amendment of {', '.join(domain_event.material_fields)} (registry position {entry.position})"
            if risk.material_change(cause, EventMeta.system("risk", cause, risk.ministry, correlation_id)):
                self.risk.save(risk)
