"""The registry's query index, written from the events each save records, in the same transaction.

The persistence side of the registry: the application says what happened (events) and what it wants to know
(queries); this module alone holds the SQL. Lists (`GET /v1/projects?ministry=&stage=`, `GET /v1/ministries`)
and the ministry check at registration read it; writing it in the command's own transaction gives REST
clients read-your-writes. The events stay the source of truth: every row derives from them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Recording
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.registry import tables
from services.registry.domain import GateState
from services.risk.contract import project_risk_id
from shared.timeutil import as_utc


def record(session: Session, recordings: Sequence[Recording[UUID]], saved: Mapping[UUID, Any]) -> None:
    """Bring the index rows up to date with the events just recorded (the application's ``indexer``);
    ``saved`` are the aggregates the events belong to, by id."""
    for recording in recordings:
        event = recording.domain_event
        writer = _WRITERS.get(type(event).__name__)
        if writer is not None:
            writer(session, event, recording.notification.id, saved[event.originator_id])


def _ministry_established(session: Session, event: Any, position: int, ministry: Any) -> None:
    session.execute(tables.ministries.insert().values(code=event.code, name=event.name, created_at=event.timestamp))


def _caio_changed(session: Session, event: Any, position: int, ministry: Any) -> None:
    designated = type(event).__name__ == "ChiefAIOfficerDesignated"
    ministries = tables.ministries
    session.execute(
        update(ministries)
        .where(ministries.c.code == ministry.code)
        .values(caio_officer_id=event.officer_id if designated else None, caio_name=event.name if designated else None)
    )


def _project_registered(session: Session, event: Any, position: int, project: Any) -> None:
    session.execute(
        tables.projects.insert().values(
            project_id=event.originator_id,
            ministry=event.ministry,
            title=event.details["title"],
            stage="planning",
            version=event.originator_version,
            registered_at=event.timestamp,
            updated_at=event.timestamp,
        )
    )
    session.execute(
        tables.risk_gate.insert().values(
            project_id=event.originator_id,
            risk_id=project_risk_id(event.originator_id),
            classification=None,
            classification_current=False,
            board_advice_recorded=False,
            decision=None,
        )
    )


def _project_changed(session: Session, event: Any, position: int, project: Any) -> None:
    """Version and time of every change; the title and stage where the event changes them. A material amendment
    also marks the registry position a classification must reflect from now on to count as current."""
    values: dict[str, Any] = {"version": event.originator_version, "updated_at": event.timestamp}
    kind = type(event).__name__
    if kind == "ProjectAmended" and "title" in event.changes:
        values["title"] = event.changes["title"]
    if kind == "ProjectStageChanged":
        values["stage"] = event.to_stage
    session.execute(update(tables.projects).where(tables.projects.c.project_id == event.originator_id).values(values))
    if kind == "ProjectAmended" and event.material:
        gate = tables.risk_gate
        session.execute(
            update(gate).where(gate.c.project_id == event.originator_id).values(last_material_position=position)
        )


_WRITERS = {
    "MinistryEstablished": _ministry_established,
    "ChiefAIOfficerDesignated": _caio_changed,
    "ChiefAIOfficerRevoked": _caio_changed,
    "ProjectRegistered": _project_registered,
    "ProjectAmended": _project_changed,
    "ProjectStageChanged": _project_changed,
    "ProcurementRecorded": _project_changed,
}


# -- queries ----------------------------------------------------------------------------------------------------


def ministry_codes(session: Session) -> list[str]:
    return list(session.execute(select(tables.ministries.c.code).order_by(tables.ministries.c.code)).scalars())


def ministry_exists(session: Session, code: str) -> bool:
    """One indexed lookup (ministries are never removed); replaying the Ministry aggregate here cost ~40% of a
    registration (docs/benchmarks.md)."""
    return session.execute(select(tables.ministries.c.code).where(tables.ministries.c.code == code)).first() is not None


def gate_state(session: Session, project_id: UUID) -> GateState | None:
    """What the registry knows of the project's risk outcome (followed from the risk log)."""
    row = session.execute(select(tables.risk_gate).where(tables.risk_gate.c.project_id == project_id)).first()
    if row is None:
        return None
    return GateState(
        classification=row.classification,
        classification_current=row.classification_current,
        classified_registry_position=row.classified_registry_position,
        last_material_position=row.last_material_position,
        expires_at=as_utc(row.expires_at) if row.expires_at is not None else None,
        board_advice_recorded=row.board_advice_recorded,
        decision=row.decision,
    )


def projects(
    session: Session, ministry: str | None, stage: str | None, limit: int, cursor: tuple[datetime, UUID] | None
) -> list[dict[str, Any]]:
    """Index rows in registration order (stable), starting after ``cursor``."""
    table = tables.projects
    query = select(table).order_by(table.c.registered_at, table.c.project_id).limit(limit)
    if ministry:
        query = query.where(table.c.ministry == ministry)
    if stage:
        query = query.where(table.c.stage == stage)
    if cursor:
        at, last_id = cursor
        query = query.where(
            (table.c.registered_at > at) | ((table.c.registered_at == at) & (table.c.project_id > last_id))
        )
    return [dict(row._mapping) for row in session.execute(query)]
