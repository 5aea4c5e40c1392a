"""What the risk service does with the registry's events: evaluations fall due, classifications go stale,
and CAIO designations are tracked so only the designated officer decides for a ministry."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from services.registry.domain import Ministry, Project
from services.risk import tables
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
        if isinstance(domain_event, Project.ProjectRegistered):
            self._evaluation_due(entry)
        elif isinstance(domain_event, Project.ProjectAmended) and domain_event.material:
            self._material_change(entry)
        elif isinstance(domain_event, Ministry.MinistryEstablished):
            session.execute(
                tables.ministry_caios.insert().values(
                    ministry_id=domain_event.originator_id, ministry=domain_event.code, caio_officer_id=None
                )
            )
        elif isinstance(domain_event, (Ministry.ChiefAIOfficerDesignated, Ministry.ChiefAIOfficerRevoked)):
            officer = domain_event.officer_id if isinstance(domain_event, Ministry.ChiefAIOfficerDesignated) else None
            table = tables.ministry_caios
            session.execute(
                update(table).where(table.c.ministry_id == domain_event.originator_id).values(caio_officer_id=officer)
            )

    def _evaluation_due(self, entry: LogEntry) -> None:
        registered = entry.event
        cause = f"project registered (registry position {entry.position})"
        meta = EventMeta.system("risk", cause, registered.ministry, entry.meta.correlation_id if entry.meta else None)
        self.risk.save(
            ProjectRisk(project_id=registered.originator_id, ministry=registered.ministry, cause=cause, meta=meta)
        )

    def _material_change(self, entry: LogEntry) -> None:
        amended = entry.event
        risk = self.risk.find_project_risk(amended.originator_id)
        if risk is None:
            return
        cause = f"material amendment of {', '.join(amended.material_fields)} (registry position {entry.position})"
        if risk.material_change(
            cause, EventMeta.system("risk", cause, risk.ministry, entry.meta.correlation_id if entry.meta else None)
        ):
            self.risk.save(risk)
