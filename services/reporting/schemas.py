"""Reporting's response models: every report states the log positions it reflects, and the moment asked for."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from shared.pagination import Page


class CaioRef(BaseModel):
    officer_id: str
    name: str | None


class InventoryItem(BaseModel):
    project_id: str
    ministry: str
    title: str
    stage: str
    risk_status: str
    classification: str | None
    board_status: str
    caio: CaioRef | None
    incidents: int
    registered_at: str
    updated_at: str


class ReportMeta(BaseModel):
    positions: dict[str, int] = Field(description="The registry and risk log positions this report reflects.")
    as_of: str | None = Field(default=None, description="The moment asked for, if any.")


class Inventory(ReportMeta, Page[InventoryItem]):
    count: int = Field(description="How many projects match, across all pages.")


class HighRiskItem(InventoryItem):
    classified_at: str | None
    submission: dict[str, Any] | None
    advice: dict[str, Any] | None
    decision: dict[str, Any] | None


class HighRiskRegister(ReportMeta, Page[HighRiskItem]):
    count: int = Field(description="How many projects are classified high, across all pages.")


class PendingItem(BaseModel):
    project_id: str
    title: str
    project_ministry: str
    what: str
    role: str
    ministry: str | None


class Pending(ReportMeta, Page[PendingItem]):
    count: int = Field(description="How many items are pending, across all pages.")


class Timeline(BaseModel):
    project_id: str
    as_of: str | None
    events: list[dict[str, Any]]


class ProjectState(ReportMeta):
    project: dict[str, Any]


class CheckpointOut(BaseModel):
    service: str
    head_position: int
    head_hash: str
    taken_at: str
    key_id: str
    signature: str


class CheckpointList(Page[CheckpointOut]):
    """Signed checkpoints, oldest first."""


class PublicKeyOut(BaseModel):
    key_id: str
    algorithm: str = "Ed25519"
    public_key_pem: str
