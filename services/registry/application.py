"""The registry application: commands and queries over ministries and projects.

Each command loads an aggregate, lets the domain decide, and saves the new events together with the
registry's query index in one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.registry import tables
from services.registry.domain import Ministry, OperationBlocked, Project, Stage, caio_history, operation_blockers
from services.risk.domain import ProjectRisk
from shared.eventlog import AuditedApplication, LogEntry
from shared.meta import EventMeta
from shared.preconditions import ANY_VERSION, IfMatch
from shared.problems import Conflict, NotFound, Unprocessable
from shared.timeutil import as_utc


class RegistryApplication(AuditedApplication):
    """Ministries, CAIO designations and the AI project registry."""

    name = "registry"
    snapshotting_intervals = {Project: 100, Ministry: 100}

    # -- ministries -------------------------------------------------------------------------------

    def establish_ministry(self, code: str, name: str, meta: EventMeta) -> Ministry:
        ministry = Ministry(code=code, name=name, meta=meta)
        try:
            with self.transaction() as session:
                self.save(ministry)
                session.execute(tables.ministries.insert().values(code=code, name=name, created_at=ministry.created_on))
        except IntegrityError as error:
            raise Conflict(f"Ministry {code} already exists.") from error
        return ministry

    def get_ministry(self, code: str) -> Ministry:
        try:
            return self.repository.get(Ministry.create_id(code))
        except AggregateNotFoundError as error:
            raise NotFound(f"No ministry with code {code}.") from error

    def list_ministries(self) -> list[Ministry]:
        with self.read_session() as session:
            codes = session.execute(select(tables.ministries.c.code).order_by(tables.ministries.c.code)).scalars().all()
        return [self.get_ministry(code) for code in codes]

    def designate_caio(
        self, code: str, officer_id: str, name: str, meta: EventMeta, *, if_match: IfMatch = ANY_VERSION
    ) -> Ministry:
        ministry = self.get_ministry(code)
        if_match.check(ministry.version, "ministry")
        ministry.designate_caio(officer_id, name, meta)
        self._save_ministry(ministry)
        return ministry

    def revoke_caio(self, code: str, meta: EventMeta, *, if_match: IfMatch = ANY_VERSION) -> Ministry:
        ministry = self.get_ministry(code)
        if_match.check(ministry.version, "ministry")
        ministry.revoke_caio(meta)
        self._save_ministry(ministry)
        return ministry

    def designated_officer(self, code: str) -> str | None:
        """The officer the registry records as the ministry's CAIO now (its own index, written with the events)."""
        table = tables.ministries
        with self.read_session() as session:
            return session.execute(select(table.c.caio_officer_id).where(table.c.code == code)).scalar_one_or_none()

    def caio_history(self, code: str) -> list[dict[str, Any]]:
        ministry = self.get_ministry(code)
        return caio_history(list(self.events.get(ministry.id)))

    def _save_ministry(self, ministry: Ministry) -> None:
        with self.transaction() as session:
            self.save(ministry)
            caio = ministry.caio or {}
            session.execute(
                update(tables.ministries)
                .where(tables.ministries.c.code == ministry.code)
                .values(caio_officer_id=caio.get("officer_id"), caio_name=caio.get("name"))
            )

    # -- projects ---------------------------------------------------------------------------------

    def register_project(self, ministry: str, details: dict[str, Any], meta: EventMeta) -> Project:
        project = Project(ministry=ministry, details=details, meta=meta)
        with self.transaction() as session:
            self.require_ministry_exists(session, ministry)
            self.save(project)
            session.execute(
                tables.projects.insert().values(
                    project_id=project.id,
                    ministry=ministry,
                    title=details["title"],
                    stage=project.stage.value,
                    version=project.version,
                    registered_at=project.created_on,
                    updated_at=project.modified_on,
                )
            )
            session.execute(
                tables.risk_gate.insert().values(
                    project_id=project.id,
                    risk_id=ProjectRisk.create_id(project.id),
                    classification=None,
                    classification_current=False,
                    board_advice_recorded=False,
                    decision=None,
                )
            )
        return project

    @staticmethod
    def require_ministry_exists(session: Session, code: str) -> None:
        """One indexed lookup in the command's transaction (ministries are never removed); replaying the
        Ministry aggregate here cost ~40% of a registration (docs/benchmarks.md)."""
        if session.execute(select(tables.ministries.c.code).where(tables.ministries.c.code == code)).first() is None:
            raise Unprocessable(
                f"Ministry {code} is not registered.",
                errors=[{"field": "body.ministry", "message": f"unknown ministry {code}", "type": "unknown_ministry"}],
            )

    def get_project(self, project_id: UUID, version: int | None = None) -> Project:
        try:
            project = self.repository.get(project_id, version=version)
        except AggregateNotFoundError as error:
            raise NotFound(f"No project with id {project_id}.") from error
        if not isinstance(project, Project):  # e.g. a ministry's id: the same log holds both kinds of aggregate
            raise NotFound(f"No project with id {project_id}.")
        return project

    def project_for_change(self, project_id: UUID, if_match: IfMatch) -> Project:
        """The project to change, refusing with 412 if the version the client saw is no longer current."""
        project = self.get_project(project_id)
        if_match.check(project.version, "project")
        return project

    def amend_project(
        self, project_id: UUID, changes: dict[str, Any], meta: EventMeta, *, if_match: IfMatch = ANY_VERSION
    ) -> Project:
        project = self.project_for_change(project_id, if_match)
        project.amend(changes, meta)
        return self._save_project(project)

    def transition_project(
        self, project_id: UUID, to: Stage, meta: EventMeta, *, if_match: IfMatch = ANY_VERSION
    ) -> Project:
        project = self.project_for_change(project_id, if_match)
        if to is Stage.operation and project.stage is Stage.development:
            self.check_operation_gate(project_id)
        project.transition(to, meta)
        return self._save_project(project)

    def risk_gate(self, project_id: UUID) -> dict[str, Any] | None:
        with self.read_session() as session:
            row = (
                session.execute(select(tables.risk_gate).where(tables.risk_gate.c.project_id == project_id))
                .mappings()
                .first()
            )
        if row is None:
            return None
        gate = dict(row)
        if gate["expires_at"] is not None:
            gate["expires_at"] = as_utc(gate["expires_at"])
        return gate

    def check_operation_gate(self, project_id: UUID) -> None:
        """Refuse operation unless the classification is decided and current and, if high, the Board advised
        and the CAIO decided to proceed. Resuming an operation already under way (from suspended) is not gated."""
        missing = operation_blockers(self.risk_gate(project_id), datetime.now(UTC))
        if missing:
            raise OperationBlocked(missing)

    def record_procurement(
        self, project_id: UUID, record: dict[str, Any], meta: EventMeta, *, if_match: IfMatch = ANY_VERSION
    ) -> Project:
        project = self.project_for_change(project_id, if_match)
        project.record_procurement(record, meta)
        return self._save_project(project)

    def _save_project(self, project: Project) -> Project:
        """Save with the index; a material amendment also marks, in the same transaction, the registry position
        a classification must reflect from now on to count as current."""
        with self.transaction() as session:
            recordings = self.save(project)
            self._index_project(session, project)
            material = [
                r.notification.id
                for r in recordings
                if isinstance(r.domain_event, Project.ProjectAmended) and r.domain_event.material
            ]
            if material:
                session.execute(
                    update(tables.risk_gate)
                    .where(tables.risk_gate.c.project_id == project.id)
                    .values(last_material_position=max(material))
                )
        return project

    @staticmethod
    def _index_project(session: Session, project: Project) -> None:
        session.execute(
            update(tables.projects)
            .where(tables.projects.c.project_id == project.id)
            .values(
                title=project.details["title"],
                stage=project.stage.value,
                version=project.version,
                updated_at=project.modified_on,
            )
        )

    def list_projects(
        self, ministry: str | None, stage: str | None, limit: int, cursor: tuple[datetime, UUID] | None
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
        with self.read_session() as session:
            return [dict(row._mapping) for row in session.execute(query)]

    def project_history(self, project_id: UUID) -> list[LogEntry]:
        """The project's events as they sit in the log, with positions and chain links."""
        self.get_project(project_id)
        return self.entries_of(project_id)

    def entries_of(self, aggregate_id: UUID) -> list[LogEntry]:
        record_class = self.recorder.events_record_cls  # type: ignore[attr-defined]
        with self.read_session() as session:
            positions = (
                session.execute(
                    select(record_class.id)
                    .where(record_class.originator_id == aggregate_id)
                    .order_by(record_class.originator_version)
                )
                .scalars()
                .all()
            )
        entries: list[LogEntry] = []
        for position in positions:
            entries.extend(self.read_log(after=position - 1, limit=1))
        return entries
