"""The registry application: commands and queries over ministries and projects.

Each command loads an aggregate, lets the domain decide, and saves the new events; the persistence side
(``services.registry.index``) writes the query index in the same transaction. No SQL and no HTTP here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from services.registry import index
from services.registry.contract import REGISTRY, Withholding
from services.registry.domain import (
    Ministry,
    OperationBlocked,
    PeriodicSubmission,
    Project,
    Stage,
    UsageRulesVersion,
    caio_history,
    operation_blockers,
    public_record,
    usage_rules_history,
)
from shared.concurrency import ANY_VERSION, IfMatch
from shared.errors import AlreadyExists, InvalidInput, NotAuthorized, NotFound
from shared.eventlog import AuditedApplication
from shared.i18n import Msg
from shared.logreader import Envelope
from shared.meta import EventMeta


class RegistryApplication(AuditedApplication):
    """Ministries, CAIO designations and the AI project registry."""

    contract = REGISTRY
    indexer = staticmethod(index.record)

    name = "registry"
    snapshotting_intervals = {Project: 100, Ministry: 100}

    # -- ministries -------------------------------------------------------------------------------

    def establish_ministry(self, code: str, name: str, meta: EventMeta) -> Ministry:
        ministry = Ministry(code=code, name=name, meta=meta)
        try:
            self.save(ministry)
        except IntegrityError as error:
            raise AlreadyExists(f"Ministry {code} already exists.") from error
        return ministry

    def get_ministry(self, code: str) -> Ministry:
        try:
            return self.repository.get(Ministry.create_id(code))
        except AggregateNotFoundError as error:
            raise NotFound(Msg("No ministry with code {code}.", code=code)) from error

    def list_ministries(self) -> list[Ministry]:
        with self.read_session() as session:
            codes = index.ministry_codes(session)
        return [self.get_ministry(code) for code in codes]

    def designate_caio(
        self, code: str, officer_id: str, name: str, meta: EventMeta, *, if_match: IfMatch = ANY_VERSION
    ) -> Ministry:
        ministry = self.get_ministry(code)
        if_match.check(ministry.version, "ministry")
        ministry.designate_caio(officer_id, name, meta)
        self.save(ministry)
        return ministry

    def revoke_caio(self, code: str, meta: EventMeta, *, if_match: IfMatch = ANY_VERSION) -> Ministry:
        ministry = self.get_ministry(code)
        if_match.check(ministry.version, "ministry")
        ministry.revoke_caio(meta)
        self.save(ministry)
        return ministry

    def designated_officer(self, code: str) -> str | None:
        """The officer the registry records as the ministry's CAIO now (its own index, written with the events)."""
        with self.read_session() as session:
            return index.designated_officer(session, code)

    def caio_history(self, code: str) -> list[dict[str, Any]]:
        ministry = self.get_ministry(code)
        return caio_history(list(self.events.get(ministry.id)))

    # -- usage rules and periodic-report submissions ----------------------------------------------

    def issue_usage_rules(
        self,
        code: str,
        title: str,
        text: str | None,
        reference: str | None,
        reference_hash: str | None,
        effective_from: date,
        meta: EventMeta,
    ) -> UsageRulesVersion:
        """The ministry's next version of its usage rules; the aggregate checks the designation, so a designation
        recorded concurrently makes this save conflict rather than pass."""
        ministry = self.get_ministry(code)
        issued = ministry.issue_usage_rules(title, text, reference, reference_hash, effective_from, meta)
        self.save(ministry)
        return issued

    def usage_rules(self, code: str) -> list[UsageRulesVersion]:
        ministry = self.get_ministry(code)
        return usage_rules_history(list(self.events.get(ministry.id)))

    def usage_rules_version(self, code: str, version: int) -> UsageRulesVersion:
        for issued in self.usage_rules(code):
            if issued.version == version:
                return issued
        raise NotFound(f"Ministry {code} has no version {version} of its usage rules.")

    def submit_periodic_report(
        self,
        code: str,
        period: str,
        content_hash: str,
        positions: dict[str, int],
        as_of: datetime,
        meta: EventMeta,
    ) -> PeriodicSubmission:
        """Record the report reporting computed at ``positions`` and ``as_of`` (named by its content hash) as
        the ministry's submission for ``period``. A registry position this log has not reached is refused."""
        head = self.head_position()
        if positions["registry"] > head:
            raise InvalidInput(
                f"The registry log has not reached position {positions['registry']} (its head is {head}).",
                "positions.registry",
                "beyond_head",
            )
        ministry = self.get_ministry(code)
        submitted = ministry.submit_periodic_report(
            period, content_hash, positions["registry"], positions["risk"], as_of, meta
        )
        self.save(ministry)
        return submitted

    # -- projects ---------------------------------------------------------------------------------

    def register_project(self, ministry: str, details: dict[str, Any], meta: EventMeta) -> Project:
        project = Project(ministry=ministry, details=details, meta=meta)
        with self.transaction() as session:
            if not index.ministry_exists(session, ministry):
                raise InvalidInput(
                    f"Ministry {ministry} is not registered.",
                    "ministry",
                    "unknown_ministry",
                    f"unknown ministry {ministry}",
                )
            self.save(project)
        return project

    def get_project(self, project_id: UUID, version: int | None = None) -> Project:
        try:
            project = self.repository.get(project_id, version=version)
        except AggregateNotFoundError as error:
            raise NotFound(Msg("No project with id {project_id}.", project_id=project_id)) from error
        if not isinstance(project, Project):  # e.g. a ministry's id: the same log holds both kinds of aggregate
            raise NotFound(Msg("No project with id {project_id}.", project_id=project_id))
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
        if to == Stage.operation and project.stage == Stage.development:
            self.check_operation_gate(project_id)
        project.transition(to, meta)
        return self._save_project(project)

    def check_operation_gate(self, project_id: UUID) -> None:
        """Refuse operation unless the classification is decided and current and, if high, the Board advised
        and the CAIO decided to proceed. Resuming an operation already under way (from suspended) is not gated."""
        with self.read_session() as session:
            gate = index.gate_state(session, project_id)
        missing = operation_blockers(gate, datetime.now(UTC))
        if missing:
            raise OperationBlocked(missing)

    def record_procurement(
        self, project_id: UUID, record: dict[str, Any], meta: EventMeta, *, if_match: IfMatch = ANY_VERSION
    ) -> Project:
        project = self.project_for_change(project_id, if_match)
        project.record_procurement(record, meta)
        return self._save_project(project)

    def publish_project(
        self, project_id: UUID, withheld: list[Withholding], meta: EventMeta, *, if_match: IfMatch = ANY_VERSION
    ) -> Project:
        """Publish the project's public record as it stands now. The designation is read again inside the
        transaction that records the publication, so a CAIO replaced meanwhile cannot publish."""
        with self.transaction() as session:
            project = self.project_for_change(project_id, if_match)
            if index.designated_officer(session, project.ministry) != meta.actor_id:
                raise NotAuthorized(
                    Msg(
                        "{actor} is not the designated Chief AI Officer of {ministry}; only the designated CAIO "
                        "publishes the public record.",
                        actor=meta.actor_id,
                        ministry=project.ministry,
                    )
                )
            gate = index.gate_state(session, project_id)
            caio = self.get_ministry(project.ministry).caio
            record = public_record(project, gate, caio["name"] if caio else None)
            project.publish(record, withheld, meta)
            self.save(project)
        return project

    def _save_project(self, project: Project) -> Project:
        self.save(project)
        return project

    def list_projects(
        self, ministry: str | None, stage: str | None, limit: int, cursor: tuple[datetime, UUID] | None
    ) -> list[dict[str, Any]]:
        """Index rows in registration order (stable), starting after ``cursor``."""
        with self.read_session() as session:
            return index.projects(session, ministry, stage, limit, cursor)

    def project_history(self, project_id: UUID) -> list[Envelope]:
        """The project's events as they sit in the log, with positions and chain links."""
        self.get_project(project_id)
        return self.entries_of(project_id)
