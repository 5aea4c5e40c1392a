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
from services.registry.contract import Stage
from services.registry.domain import CheckSheetVersion, GateState, Ministry, Project
from services.risk.contract import project_risk_id
from shared.timeutil import as_utc


def record(session: Session, recordings: Sequence[Recording[UUID]], saved: Mapping[UUID, Any]) -> None:
    """Bring the index rows up to date with the events just recorded (the application's ``indexer``): each
    saved aggregate's row as it now stands, written once per save however many events it recorded (inserted
    with its first event), and the last material change's position (a material amendment, or a vendor's notice
    of a model change)."""
    created: dict[UUID, bool] = {}
    material: dict[UUID, int] = {}
    positions: dict[UUID, int] = {}
    for recording in recordings:
        event = recording.domain_event
        created[event.originator_id] = created.get(event.originator_id, False) or event.originator_version == 1
        positions.setdefault(event.originator_id, recording.notification.id)
        if getattr(event, "material", False) or type(event).__name__ == "ModelChangeNoticed":
            material[event.originator_id] = recording.notification.id
    for aggregate_id, first in created.items():
        aggregate = saved[aggregate_id]
        if isinstance(aggregate, CheckSheetVersion):
            _index_check_sheet(session, aggregate, positions[aggregate_id])
        elif isinstance(aggregate, Ministry):
            _index_ministry(session, aggregate, created=first)
        elif isinstance(aggregate, Project):
            _index_project(session, aggregate, created=first)
    for project_id, position in material.items():
        _mark_material(session, project_id, position)


def _index_ministry(session: Session, ministry: Ministry, created: bool) -> None:
    caio = ministry.caio or {}
    values = {"name": ministry.name, "caio_officer_id": caio.get("officer_id"), "caio_name": caio.get("name")}
    table = tables.ministries
    if created:
        session.execute(table.insert().values(code=ministry.code, created_at=ministry.created_on, **values))
    else:
        session.execute(update(table).where(table.c.code == ministry.code).values(values))


def _index_project(session: Session, project: Project, created: bool) -> None:
    values = {
        "title": project.details["title"],
        "stage": Stage(project.stage).value,  # a project loaded from a snapshot holds the stage as text
        "version": project.version,
        "updated_at": project.modified_on,
    }
    table = tables.projects
    if not created:
        session.execute(update(table).where(table.c.project_id == project.id).values(values))
        return
    session.execute(
        table.insert().values(
            project_id=project.id, ministry=project.ministry, registered_at=project.created_on, **values
        )
    )
    session.execute(
        tables.risk_gate.insert().values(
            project_id=project.id,
            risk_id=project_risk_id(project.id),
            classification=None,
            classification_current=False,
            board_advice_recorded=False,
            decision=None,
        )
    )


def _index_check_sheet(session: Session, published: CheckSheetVersion, position: int) -> None:
    title = published.content["title"]
    session.execute(
        tables.check_sheets.insert().values(
            sheet_id=published.sheet_id,
            version=published.sheet_version,
            kind=published.kind,
            title_en=title["en"],
            title_ja=title["ja"],
            content_hash=published.content_hash,
            published_at=published.created_on,
            position=position,
        )
    )


def _mark_material(session: Session, project_id: UUID, position: int) -> None:
    """A material amendment marks the registry position a classification must reflect from now on to count as
    current (``GateState.stale``): there is no window before the risk log reacts."""
    gate = tables.risk_gate
    session.execute(update(gate).where(gate.c.project_id == project_id).values(last_material_position=position))


# -- queries ----------------------------------------------------------------------------------------------------


def ministry_codes(session: Session) -> list[str]:
    return list(session.execute(select(tables.ministries.c.code).order_by(tables.ministries.c.code)).scalars())


def ministry_exists(session: Session, code: str) -> bool:
    """One indexed lookup (ministries are never removed); replaying the Ministry aggregate here cost ~40% of a
    registration (docs/benchmarks.md)."""
    return session.execute(select(tables.ministries.c.code).where(tables.ministries.c.code == code)).first() is not None


def designated_officer(session: Session, code: str) -> str | None:
    """The officer the registry records as the ministry's CAIO now."""
    table = tables.ministries
    officer: str | None = session.execute(
        select(table.c.caio_officer_id).where(table.c.code == code)
    ).scalar_one_or_none()
    return officer


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


def check_sheets(session: Session) -> list[dict[str, Any]]:
    """Published check sheet versions by id and version."""
    table = tables.check_sheets
    query = select(table).order_by(table.c.sheet_id, table.c.version)
    return [dict(row) for row in session.execute(query).mappings()]


def latest_check_sheets(session: Session) -> dict[str, tuple[str, int]]:
    """Kind → (sheet id, version) of the sheet of that kind published last: what a project that has answered
    none is measured against."""
    table = tables.check_sheets
    latest: dict[str, tuple[str, int]] = {}
    for row in session.execute(select(table.c.kind, table.c.sheet_id, table.c.version).order_by(table.c.position)):
        latest[row.kind] = (row.sheet_id, row.version)
    return latest
