"""The registry application: commands and queries over ministries and projects.

Each command loads an aggregate, lets the domain decide, and saves the new events; the persistence side
(``services.registry.index``) writes the query index in the same transaction. No SQL and no HTTP here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from sqlalchemy.orm import Session

from services.registry import index
from services.registry import sheets as checksheets
from services.registry.contract import REGISTRY, ReopenCause, SheetKind, SheetStatus, Withholding
from services.registry.domain import (
    CheckSheetVersion,
    DevelopmentBlocked,
    Ministry,
    NotDesignated,
    OperationBlocked,
    PeriodicSubmission,
    Project,
    Stage,
    UsageRulesVersion,
    caio_history,
    operation_blockers,
    public_record,
    sheet_blockers,
    usage_rules_history,
)
from services.registry.sheets import CheckSheet, ProjectFacts
from shared.concurrency import ANY_VERSION, IfMatch
from shared.errors import AlreadyExists, FieldProblem, Incomplete, InvalidInput, InvalidInputs, NotAuthorized, NotFound
from shared.eventlog import AuditedApplication
from shared.i18n import N_, Msg
from shared.logreader import Envelope
from shared.meta import EventMeta


class RegistryApplication(AuditedApplication):
    """Ministries, CAIO designations and the AI project registry."""

    contract = REGISTRY
    indexer = staticmethod(index.record)

    name = "registry"
    snapshotting_intervals = {Project: 100, Ministry: 100}

    # -- check sheets -------------------------------------------------------------------------------

    def publish_check_sheet(self, content: dict[str, Any], meta: EventMeta) -> CheckSheetVersion:
        """Publish a validated check sheet version; republishing identical content is a no-op, other content a
        conflict (a changed sheet is a new version, so answers pinned to the old one keep their meaning)."""
        sheet = checksheets.parse(content)
        digest = checksheets.content_hash(sheet)
        existing = self.find_check_sheet(sheet.id, sheet.version)
        if existing is not None:
            if existing.content_hash != digest:
                raise AlreadyExists(
                    Msg("Check sheet {sheet} version {version} is already published with other content; publish a "
                        "new version.", sheet=sheet.id, version=sheet.version)
                )  # fmt: skip
            return existing
        published = CheckSheetVersion(
            sheet_id=sheet.id,
            version=sheet.version,
            kind=sheet.kind.value,
            content_hash=digest,
            content=checksheets.dump(sheet),
            meta=meta,
        )
        self.save(published)
        return published

    def publish_shipped_check_sheets(self) -> None:
        """Record the check sheets shipped with this release as events, once (replicas racing here end equal)."""
        for content in checksheets.shipped_contents():
            with contextlib.suppress(IntegrityError, AlreadyExists):
                meta = EventMeta.system("registry", "check sheet shipped with this release", None, None)
                self.publish_check_sheet(content, meta)

    def find_check_sheet(self, sheet_id: str, version: int) -> CheckSheetVersion | None:
        try:
            found = self.repository.get(CheckSheetVersion.create_id(sheet_id, version))
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, CheckSheetVersion) else None

    def check_sheet(self, sheet_id: str, version: int) -> CheckSheetVersion:
        found = self.find_check_sheet(sheet_id, version)
        if found is None:
            raise NotFound(Msg("No check sheet {sheet} version {version}.", sheet=sheet_id, version=version))
        return found

    def list_check_sheets(self) -> list[dict[str, Any]]:
        with self.read_session() as session:
            return index.check_sheets(session)

    def _facts(self, session: Any, project: Project) -> ProjectFacts:
        """The project as it stands now: its details, and its classification as followed from the risk log."""
        gate = index.gate_state(session, project.id)
        return ProjectFacts.of(project.details, gate.classification if gate else None)

    def _sheets_of(
        self, session: Any, project: Project, pinned: Mapping[SheetKind, CheckSheet] | None = None
    ) -> dict[SheetKind, CheckSheet]:
        """The sheet each kind is measured against: the version given (``pinned``), else the version the project
        answered, else the latest published sheet of the kind (to name its items when none are answered)."""
        chosen = dict(pinned or {})
        latest = index.latest_check_sheets(session)
        for kind in SheetKind:
            if kind in chosen:
                continue
            recorded = project.sheet_state.get(kind.value)
            sheet_id, version = (recorded["sheet_id"], recorded["version"]) if recorded else latest.get(kind, ("", 0))
            published = self.find_check_sheet(sheet_id, version) if sheet_id else None
            if published is not None:
                chosen[kind] = published.sheet
        return chosen

    def sheet_status(self, project_id: UUID) -> tuple[Project, dict[SheetKind, SheetStatus], dict[SheetKind, Any]]:
        """Each sheet's status for the project as it stands now, and the sheets measured against."""
        project = self.get_project(project_id)
        with self.read_session() as session:
            sheets = self._sheets_of(session, project)
            statuses = project.sheet_statuses(sheets, self._facts(session, project))
        return project, statuses, sheets

    def record_sheet_answers(
        self,
        project_id: UUID,
        vendor: str,
        contract_reference: str,
        answered: Sequence[dict[str, Any]],
        meta: EventMeta,
        *,
        if_match: IfMatch = ANY_VERSION,
    ) -> Project:
        """Record answers to published sheet versions; each sheet answered must answer every item that applies to
        the project as it stands now (422 naming each missing one), with a reason for every not_applicable."""
        project = self.project_for_change(project_id, if_match)
        pinned: dict[SheetKind, CheckSheet] = {}
        problems: list[FieldProblem] = []
        for body in answered:
            path, kind = f"{body['kind']}_sheet", SheetKind(body["kind"])
            published = self.find_check_sheet(body["sheet_id"], body["version"])
            if published is None:
                message = f"no check sheet {body['sheet_id']} version {body['version']} is published"
                problems.append(FieldProblem(f"{path}.version", message, "unknown_check_sheet"))
            elif published.sheet.kind != kind:
                message = f"{body['sheet_id']} is a {published.sheet.kind.value} sheet, not a {kind.value} sheet"
                problems.append(FieldProblem(f"{path}.sheet_id", message, "wrong_kind"))
            else:
                pinned[kind] = published.sheet
                problems += checksheets.answer_problems(published.sheet, body["answers"], path)
        if problems:
            raise InvalidInputs(N_("The check sheet answers are not valid."), problems)
        with self.transaction() as session:
            facts = self._facts(session, project)
            given = {(body["kind"], answer["item"]) for body in answered for answer in body["answers"]}
            missing = [
                f"{kind.value}_sheet.answers[{item}]"
                for kind, sheet in pinned.items()
                for item in checksheets.applicable_ids(sheet, facts)
                if (kind.value, item) not in given
            ]
            if missing:
                raise Incomplete(
                    Msg(
                        "Every item that applies to the project must be answered: {missing}.",
                        missing=", ".join(missing),
                    ),
                    missing,
                )
            recorded = [
                {**body, "content_hash": checksheets.content_hash(pinned[SheetKind(body["kind"])])} for body in answered
            ]
            sheets = self._sheets_of(session, project, pinned)
            project.answer_sheets(vendor, contract_reference, recorded, sheets, facts, meta)
            self.save(project)
        return project

    def accept_item_risk(
        self, project_id: UUID, kind: SheetKind, item: str, meta: EventMeta, *, if_match: IfMatch = ANY_VERSION
    ) -> Project:
        """The designated CAIO accepts the risk of an item answered not_met; who is designated is read in the
        transaction that records the acceptance, so a designation revoked a moment before binds it."""
        project = self.project_for_change(project_id, if_match)
        with self.transaction() as session:
            if index.designated_officer(session, project.ministry) != meta.actor_id:
                raise NotDesignated(
                    Msg("{actor} is not the designated Chief AI Officer of {ministry}; only they accept the risk of an "
                        "item not met.", actor=meta.actor_id, ministry=project.ministry)
                )  # fmt: skip
            sheets = self._sheets_of(session, project)
            project.accept_item_risk(kind, item, sheets, self._facts(session, project), meta)
            self.save(project)
        return project

    def notice_model_change(
        self, project_id: UUID, notice: dict[str, str], meta: EventMeta, *, if_match: IfMatch = ANY_VERSION
    ) -> Project:
        """Record a vendor's notice of a model change; it marks the registry's gate stale at once (the index's
        material position) and reopens the contract items a model change reopens."""
        project = self.project_for_change(project_id, if_match)
        with self.transaction() as session:
            project.notice_model_change(notice, self._sheets_of(session, project), self._facts(session, project), meta)
            self.save(project)
        return project

    def reconsider_sheets(self, project_id: UUID, before: str | None, after: str | None, meta: EventMeta) -> None:
        """A classification the registry learned from the risk log may make items apply (high-risk only ones):
        reopen the sheets they belong to (called by the follower, in its transaction)."""
        project = self.get_project(project_id)
        if not project.sheet_state:
            return
        with self.transaction() as session:
            sheets = self._sheets_of(session, project)
            project.reopen_newly_applicable(
                ProjectFacts.of(project.details, before),
                ProjectFacts.of(project.details, after),
                ReopenCause.classification,
                sheets,
                meta,
            )
            self.save(project)

    # -- ministries -------------------------------------------------------------------------------

    def establish_ministry(self, code: str, name: str, meta: EventMeta) -> Ministry:
        ministry = Ministry(code=code, name=name, meta=meta)
        try:
            self.save(ministry)
        except IntegrityError as error:
            raise AlreadyExists(Msg("Ministry {code} already exists.", code=code)) from error
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
        raise NotFound(Msg("Ministry {code} has no version {version} of its usage rules.", code=code, version=version))

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
                Msg(
                    "The registry log has not reached position {position} (its head is {head}).",
                    position=positions["registry"],
                    head=head,
                ),
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
        """The ministry must exist when the project is recorded: checked under the log's write lock (the guard),
        so the save can join a group commit."""
        project = Project(ministry=ministry, details=details, meta=meta)

        def ministry_registered(session: Session) -> None:
            if not index.ministry_exists(session, ministry):
                raise InvalidInput(
                    Msg("Ministry {code} is not registered.", code=ministry),
                    "ministry",
                    "unknown_ministry",
                    f"unknown ministry {ministry}",
                )

        self.save(project, guard=ministry_registered)
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
        with self.transaction() as session:
            before = self._facts(session, project)
            project.amend(changes, meta)
            if project.sheet_state:
                sheets = self._sheets_of(session, project)
                after = self._facts(session, project)
                project.reopen_newly_applicable(before, after, ReopenCause.amendment, sheets, meta)
            return self._save_project(project)

    def transition_project(
        self, project_id: UUID, to: Stage, meta: EventMeta, *, if_match: IfMatch = ANY_VERSION
    ) -> Project:
        project = self.project_for_change(project_id, if_match)
        if to == Stage.development and project.stage == Stage.procurement:
            self.check_development_gate(project)
        if to == Stage.operation and project.stage == Stage.development:
            self.check_operation_gate(project)
        project.transition(to, meta)
        return self._save_project(project)

    def _sheet_blockers(self, project: Project, to: Stage) -> list[str]:
        with self.read_session() as session:
            sheets = self._sheets_of(session, project)
            statuses = project.sheet_statuses(sheets, self._facts(session, project))
        return sheet_blockers(to, statuses, sheets)

    def check_development_gate(self, project: Project) -> None:
        """Refuse development until the procurement sheet answers every item that applies to the project now."""
        missing = self._sheet_blockers(project, Stage.development)
        if missing:
            raise DevelopmentBlocked(missing)

    def check_operation_gate(self, project: Project) -> None:
        """Refuse operation unless both sheets answer every item that applies now, each not_met with the CAIO's
        risk acceptance, and the classification is decided and current and, if high, the Board advised and the
        CAIO decided to proceed. Resuming an operation already under way (from suspended) is not gated."""
        with self.read_session() as session:
            gate = index.gate_state(session, project.id)
        missing = self._sheet_blockers(project, Stage.operation) + operation_blockers(gate, datetime.now(UTC))
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
