"""The risk service's response models."""

from __future__ import annotations

from pydantic import BaseModel

from services.risk.domain import RiskStatus


class PendingItem(BaseModel):
    what: str
    role: str
    ministry: str | None


class ProjectRiskOut(BaseModel):
    project_id: str
    ministry: str
    status: RiskStatus
    evaluation_due: bool
    assessment_ids: list[str]
    pending: list[PendingItem]
    stale_causes: list[str]
    version: int
    registry_position: int
