"""Reporting's response models: every report states the log positions it reflects."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CaioRef(BaseModel):
    officer_id: str
    name: str | None


class InventoryItem(BaseModel):
    project_id: str
    ministry: str
    title: str
    stage: str
    risk_status: str
    caio: CaioRef | None
    registered_at: str
    updated_at: str


class Inventory(BaseModel):
    positions: dict[str, int] = Field(description="The registry and risk log positions this report reflects.")
    count: int
    items: list[InventoryItem]
