"""The risk side of a project: whether its risk evaluation is due, in progress, decided or stale.

Plain Python on the ``eventsourcing`` aggregate base; the full judgment sheet arrives with the risk issue.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from shared.meta import EventMeta

PROJECT_RISK_NAMESPACE = uuid5(NAMESPACE_URL, "urn:aigov:project-risk")


class RiskStatus(StrEnum):
    due = "due"
    in_progress = "in_progress"
    classified_high = "classified_high"
    classified_not_high = "classified_not_high"
    stale = "stale"


CLASSIFIED = frozenset({RiskStatus.classified_high, RiskStatus.classified_not_high})


class ProjectRisk(Aggregate):
    """One per registered project, created when the registry records the project."""

    @staticmethod
    def create_id(project_id: UUID) -> UUID:
        return uuid5(PROJECT_RISK_NAMESPACE, str(project_id))

    @event("RiskEvaluationBecameDue")
    def __init__(self, project_id: UUID, ministry: str, cause: str, meta: EventMeta):
        self.project_id = project_id
        self.ministry = ministry
        self.status = RiskStatus.due
        self.assessment_ids: list[str] = []
        self.stale_causes: list[str] = []

    def material_change(self, cause: str, meta: EventMeta) -> bool:
        """A material change makes a decided classification stale; returns whether anything was recorded."""
        if self.status not in CLASSIFIED:
            return False
        self._became_stale(cause=cause, meta=meta)
        return True

    @event("ClassificationBecameStale")
    def _became_stale(self, cause: str, meta: EventMeta) -> None:
        self.status = RiskStatus.stale
        self.stale_causes.append(cause)

    def pending(self) -> list[dict[str, Any]]:
        """What is waiting, and on whom (role and ministry)."""
        if self.status in (RiskStatus.due, RiskStatus.stale):
            return [{"what": "risk evaluation" if self.status is RiskStatus.due else "re-evaluation", "role": "planner", "ministry": self.ministry}]
        return []
