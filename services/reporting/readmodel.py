"""Reporting's store: the tracking records and read-model tables its followers write, and its queries."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment
from eventsourcing_sqlalchemy.recorders import SQLAlchemyTrackingRecorder
from sqlalchemy import select

from services.reporting import tables
from shared.database import eventsourcing_env
from shared.timeutil import as_utc

NOT_YET_EVALUATED = "not_known_to_risk"


class ReportingStore:
    """Reporting writes no events: only read models, each batch committed with its tracking record."""

    name = "reporting"

    def __init__(self, database_url: str):
        factory = InfrastructureFactory.construct(Environment(self.name, eventsourcing_env(database_url)))
        self.tracking: SQLAlchemyTrackingRecorder = factory.tracking_recorder()  # type: ignore[assignment]

    def positions(self) -> dict[str, int]:
        """The upstream log positions the read models reflect."""
        return {upstream: self.tracking.max_tracking_id(upstream) or 0 for upstream in ("registry", "risk")}

    def inventory(self, ministry: str | None = None, stage: str | None = None, risk: str | None = None) -> list[dict[str, Any]]:
        inventory, ministries, risk_table = tables.inventory, tables.ministries, tables.project_risk
        query = (
            select(
                inventory.c.project_id, inventory.c.ministry, inventory.c.title, inventory.c.stage, inventory.c.registered_at,
                inventory.c.updated_at, risk_table.c.risk_status, ministries.c.caio_officer_id, ministries.c.caio_name,
            )
            .select_from(inventory.outerjoin(risk_table, risk_table.c.project_id == inventory.c.project_id).outerjoin(ministries, ministries.c.ministry == inventory.c.ministry))
            .order_by(inventory.c.registered_at, inventory.c.project_id)
        )
        if ministry:
            query = query.where(inventory.c.ministry == ministry)
        if stage:
            query = query.where(inventory.c.stage == stage)
        if risk:
            query = query.where(risk_table.c.risk_status == risk) if risk != NOT_YET_EVALUATED else query.where(risk_table.c.risk_status.is_(None))
        with self.tracking.transaction(commit=False) as session:
            rows = session.execute(query).mappings().all()
        return [
            {
                "project_id": str(row["project_id"]),
                "ministry": row["ministry"],
                "title": row["title"],
                "stage": row["stage"],
                "risk_status": row["risk_status"] or NOT_YET_EVALUATED,
                "caio": {"officer_id": row["caio_officer_id"], "name": row["caio_name"]} if row["caio_officer_id"] else None,
                "registered_at": as_utc(row["registered_at"]).isoformat(),
                "updated_at": as_utc(row["updated_at"]).isoformat(),
            }
            for row in rows
        ]
