"""What the risk service does with the registry's events: evaluations fall due, classifications go stale,
and CAIO designations are tracked so only the designated officer decides for a ministry.

It reads the registry log through the registry's published contract only (``services.registry.contract``)."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from services.registry import contract as registry
from services.risk import tables
from services.risk.application import RiskApplication
from services.risk.domain import ProjectRisk
from shared.logreader import Envelope
from shared.meta import EventMeta

CONTRACT = registry.REGISTRY


class RegistryPolicy:
    """Turns registry facts into risk facts, recorded atomically with the registry position they answer."""

    def __init__(self, risk: RiskApplication):
        self.risk = risk

    def __call__(self, session: Session, entry: Envelope) -> None:
        if entry.type == "ProjectRegistered":
            self._evaluation_due(entry, CONTRACT.parse(entry.type, entry.data, registry.ProjectRegistered))
        elif entry.type == "ProjectAmended":
            amended = CONTRACT.parse(entry.type, entry.data, registry.ProjectAmended)
            if amended.material:
                self._material_change(entry, f"material amendment of {', '.join(amended.material_fields)}")
        elif entry.type == "ModelChangeNoticed":
            notice = CONTRACT.parse(entry.type, entry.data, registry.ModelChangeNoticed)
            self._material_change(entry, f"vendor's notice of a model change to {notice.model} {notice.model_version}")
        elif entry.type == "MinistryEstablished":
            established = CONTRACT.parse(entry.type, entry.data, registry.MinistryEstablished)
            session.execute(
                tables.ministry_caios.insert().values(
                    ministry_id=entry.aggregate_id, ministry=established.code, caio_officer_id=None
                )
            )
        elif entry.type in ("ChiefAIOfficerDesignated", "ChiefAIOfficerRevoked"):
            self._designation_changed(session, entry)

    @staticmethod
    def _designation_changed(session: Session, entry: Envelope) -> None:
        officer = None
        if entry.type == "ChiefAIOfficerDesignated":
            officer = CONTRACT.parse(entry.type, entry.data, registry.ChiefAIOfficerDesignated).officer_id
        table = tables.ministry_caios
        session.execute(update(table).where(table.c.ministry_id == entry.aggregate_id).values(caio_officer_id=officer))

    def _evaluation_due(self, entry: Envelope, registered: registry.ProjectRegistered) -> None:
        cause = f"project registered (registry position {entry.position})"
        meta = EventMeta.system("risk", cause, registered.ministry, entry.correlation_id)
        self.risk.save(ProjectRisk(project_id=entry.aggregate_id, ministry=registered.ministry, cause=cause, meta=meta))

    def _material_change(self, entry: Envelope, what: str) -> None:
        risk = self.risk.find_project_risk(entry.aggregate_id)
        if risk is None:
            return
        cause = f"{what} (registry position {entry.position})"
        if risk.material_change(cause, EventMeta.system("risk", cause, risk.ministry, entry.correlation_id)):
            self.risk.save(risk)
