"""The risk application: commands and queries of the guideline's risk process, on its own hash-chained log.

Every command that changes a project's risk state saves the changed aggregates together (one transaction),
with the risk service's query indexes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, ProcessRecorder
from sqlalchemy.orm import Session

from services.risk import evaluation, index
from services.risk.contract import RISK, add_months
from services.risk.domain import (
    Assessment,
    BoardOpinion,
    BoardReview,
    BoardSubmission,
    Classification,
    Decision,
    Incident,
    ProjectRisk,
    RiskRuleViolated,
    RulesetVersion,
)
from shared.concurrency import ANY_VERSION, IfMatch
from shared.errors import AlreadyExists, InvalidInput, NotFound
from shared.eventlog import AuditedApplication, ConcurrentChange, Guard
from shared.i18n import N_, Msg
from shared.logreader import Envelope
from shared.meta import EventMeta


class RiskApplication(AuditedApplication):
    """Risk evaluations, Advisory Board submissions, decisions and incidents, per project."""

    contract = RISK
    indexer = staticmethod(index.record)

    name = "risk"
    snapshotting_intervals = {ProjectRisk: 100}

    def construct_recorder(self) -> ProcessRecorder:
        """A process recorder: events written in reaction to the registry commit with the position they answer."""
        return self.factory.process_recorder()

    # -- loading -----------------------------------------------------------------------------------

    def _get(self, aggregate_id: UUID, kind: type[Aggregate], label: str) -> Any:
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError as error:
            raise NotFound(Msg("No {label} with id {id}.", label=label, id=aggregate_id)) from error
        if not isinstance(aggregate, kind):
            raise NotFound(Msg("No {label} with id {id}.", label=label, id=aggregate_id))
        return aggregate

    def _for_change(self, aggregate_id: UUID, kind: type[Aggregate], label: str, if_match: IfMatch) -> Any:
        """The aggregate to change, refusing with 412 if the version the client saw is no longer current."""
        aggregate = self._get(aggregate_id, kind, label)
        if_match.check(aggregate.version, label)
        return aggregate

    def project_risk(self, project_id: UUID) -> ProjectRisk:
        try:
            return self.repository.get(ProjectRisk.create_id(project_id))
        except AggregateNotFoundError as error:
            raise NotFound(
                Msg(
                    "The risk service has no record of project {project_id} (unknown, or not yet followed "
                    "from the registry).",
                    project_id=project_id,
                )
            ) from error

    def find_project_risk(self, project_id: UUID) -> ProjectRisk | None:
        try:
            return self.repository.get(ProjectRisk.create_id(project_id))
        except AggregateNotFoundError:
            return None

    def assessment(self, assessment_id: UUID) -> Assessment:
        return self._get(assessment_id, Assessment, "assessment")

    def submission(self, submission_id: UUID) -> BoardSubmission:
        return self._get(submission_id, BoardSubmission, "Board submission")

    def incident(self, incident_id: UUID) -> Incident:
        return self._get(incident_id, Incident, "incident")

    # -- rulesets ----------------------------------------------------------------------------------

    def publish_ruleset(self, content: dict[str, Any], meta: EventMeta) -> RulesetVersion:
        """Publish a validated ruleset version; republishing identical content is a no-op, other content a
        conflict."""
        ruleset = evaluation.parse(content)
        digest = evaluation.content_hash(ruleset)
        existing = self.find_ruleset(ruleset.id, ruleset.version)
        if existing is not None:
            if existing.content_hash != digest:
                raise AlreadyExists(
                    Msg(
                        "Ruleset {ruleset_id} version {version} is already published with other content; "
                        "publish a new version.",
                        ruleset_id=ruleset.id,
                        version=ruleset.version,
                    )
                )
            return existing
        published = RulesetVersion(
            ruleset_id=ruleset.id,
            version=ruleset.version,
            content_hash=digest,
            content=evaluation.dump(ruleset),
            meta=meta,
        )
        self.save(published)
        return published

    def publish_shipped_rulesets(self) -> None:
        """Record the rulesets shipped with this release as events, once (replicas racing here all end equal)."""
        for content in evaluation.shipped_contents():
            with contextlib.suppress(IntegrityError, AlreadyExists):
                self.publish_ruleset(content, EventMeta.system("risk", "ruleset shipped with this release", None, None))

    def find_ruleset(self, ruleset_id: str, version: int) -> RulesetVersion | None:
        try:
            return self.repository.get(RulesetVersion.create_id(ruleset_id, version))
        except AggregateNotFoundError:
            return None

    def ruleset(self, ruleset_id: str, version: int) -> RulesetVersion:
        found = self.find_ruleset(ruleset_id, version)
        if found is None:
            raise NotFound(Msg("No ruleset {ruleset_id} version {version}.", ruleset_id=ruleset_id, version=version))
        return found

    def list_rulesets(self) -> list[dict[str, Any]]:
        with self.read_session() as session:
            return index.rulesets(session)

    def current_version(self, ruleset_id: str) -> int:
        versions = [row["version"] for row in self.list_rulesets() if row["ruleset_id"] == ruleset_id]
        if not versions:
            raise InvalidInput(
                Msg("No ruleset {ruleset_id} is published.", ruleset_id=ruleset_id),
                "ruleset_id",
                "unknown_ruleset",
                f"unknown ruleset {ruleset_id}",
            )
        return max(versions)

    def pinned_ruleset(self, assessment: Assessment) -> Any:
        published = self.ruleset(assessment.ruleset_id, assessment.ruleset_version)
        return evaluation.parse(published.content)

    # -- assessments --------------------------------------------------------------------------------

    def open_assessment(self, project_id: UUID, ruleset_id: str, meta: EventMeta) -> Assessment:
        risk = self.project_risk(project_id)
        version = self.current_version(ruleset_id)
        published = self.ruleset(ruleset_id, version)
        assessment = Assessment(
            project_id=project_id,
            ministry=risk.ministry,
            ruleset_id=ruleset_id,
            ruleset_version=version,
            ruleset_hash=published.content_hash,
            meta=meta,
        )
        risk.start_assessment(assessment.id, meta)
        self.save(assessment, risk)
        return assessment

    def record_answers(
        self,
        assessment_id: UUID,
        answers: dict[str, dict[str, str]],
        mitigations: dict[str, dict[str, str]],
        meta: EventMeta,
        *,
        if_match: IfMatch = ANY_VERSION,
    ) -> Assessment:
        assessment = self._for_change(assessment_id, Assessment, "assessment", if_match)
        evaluation.check_answers(self.pinned_ruleset(assessment), answers, mitigations)
        assessment.record_answers(answers, mitigations, meta)
        self.save(assessment)
        return assessment

    def submit_assessment(self, assessment_id: UUID, meta: EventMeta, *, if_match: IfMatch = ANY_VERSION) -> Assessment:
        assessment = self._for_change(assessment_id, Assessment, "assessment", if_match)
        ruleset = self.pinned_ruleset(assessment)
        evaluation.require_complete(ruleset, assessment.answers)
        assessment.submit(evaluation.screen(ruleset, assessment.answers, assessment.mitigations), meta)
        self._save_assessment(assessment)
        return assessment

    def classify(
        self,
        assessment_id: UUID,
        classification: Classification,
        reasons: str,
        override_justification: str | None,
        meta: EventMeta,
        *,
        if_match: IfMatch = ANY_VERSION,
    ) -> Assessment:
        assessment = self._for_change(assessment_id, Assessment, "assessment", if_match)
        risk = self.project_risk(assessment.project_id)
        if risk.current_assessment_id != str(assessment.id):
            raise RiskRuleViolated(N_("Only the project's open assessment can be classified."))
        assessment.classify(classification, reasons, override_justification, meta)
        validity = self.pinned_ruleset(assessment).classification_validity_months
        registry_position = self.recorder.max_tracking_id("registry") or 0  # type: ignore[attr-defined]
        risk.record_classification(
            assessment.id, classification, add_months(datetime.now(UTC), validity), registry_position, meta
        )
        self._save_assessment(assessment, risk)
        return assessment

    def _save_assessment(self, assessment: Assessment, *others: Aggregate) -> None:
        self.save(assessment, *others)

    def open_assessment_submitted(self, risk: ProjectRisk) -> bool:
        """Whether the project's open assessment was submitted (then its classification is what waits)."""
        if risk.current_assessment_id is None:
            return False
        return self.assessment(UUID(risk.current_assessment_id)).screening is not None

    def assessments_of(self, project_id: UUID) -> list[Assessment]:
        return [self.assessment(UUID(aid)) for aid in self.project_risk(project_id).assessment_ids]

    def rescore(self, ruleset_id: str, version: int) -> list[dict[str, Any]]:
        """Dry run: every current assessment whose screening or level would change under that ruleset version."""
        candidate = evaluation.parse(self.ruleset(ruleset_id, version).content)
        with self.read_session() as session:
            ids = index.screened_assessments(session, ruleset_id)
        changes = []
        for assessment_id in ids:
            assessment = self.assessment(assessment_id)
            risk = self.project_risk(assessment.project_id)
            if str(assessment.id) not in (risk.classified_assessment_id, risk.current_assessment_id):
                continue
            change = evaluation.compare(
                assessment.screening or {}, candidate, assessment.answers, assessment.mitigations
            )
            if change is not None:
                changes.append(
                    {
                        "assessment_id": str(assessment.id),
                        "project_id": str(assessment.project_id),
                        "ministry": assessment.ministry,
                        "pinned_version": assessment.ruleset_version,
                        **change,
                    }
                )
        return changes

    # -- Advisory Board ------------------------------------------------------------------------------

    def draft_submission(
        self, project_id: UUID, content: dict[str, Any], meta: EventMeta, previous_submission_id: UUID | None = None
    ) -> BoardSubmission:
        """A first submission, or (``previous_submission_id``) the revision of one the CAIO decided to revise and
        resubmit; either rests on the project's current classification when it names an assessment."""
        risk = self.project_risk(project_id)
        self._require_assessment_of(risk, content.get("assessment_id"))
        if previous_submission_id is None:
            submission = BoardSubmission(project_id=project_id, ministry=risk.ministry, content=content, meta=meta)
        else:
            previous = self._previous(project_id, previous_submission_id)
            submission = BoardSubmission.resubmission_of(previous, content, meta)
        self.save(submission)
        return submission

    def _previous(self, project_id: UUID, previous_submission_id: UUID) -> BoardSubmission:
        previous: BoardSubmission | None = None
        with contextlib.suppress(NotFound):
            previous = self.submission(previous_submission_id)
        if previous is None or previous.project_id != project_id:
            raise InvalidInput(
                N_("A resubmission names an earlier submission of the same project."),
                "previous_submission_id",
                "unknown_submission",
                "not a Board submission of this project",
            )
        return previous

    def edit_submission(
        self, submission_id: UUID, content: dict[str, Any], meta: EventMeta, *, if_match: IfMatch = ANY_VERSION
    ) -> BoardSubmission:
        """Replace a draft's content (the route merged the client's patch into it and validated the result)."""
        submission = self._for_change(submission_id, BoardSubmission, "Board submission", if_match)
        if content.get("assessment_id") != submission.content.get("assessment_id"):
            self._require_assessment_of(self.project_risk(submission.project_id), content.get("assessment_id"))
        submission.edit(content, meta)
        self.save(submission)
        return submission

    def submission_history(self, submission_id: UUID) -> list[Envelope]:
        """The submission's events as the log holds them: drafted, each edit, submitted, advised, decided."""
        self.submission(submission_id)
        return self.entries_of(submission_id)

    @staticmethod
    def _require_assessment_of(risk: ProjectRisk, assessment_id: Any) -> None:
        if assessment_id and str(assessment_id) not in risk.assessment_ids:
            raise InvalidInput(
                N_("The submission must rest on an assessment of this project."),
                "assessment_id",
                "unknown_assessment",
                "not an assessment of this project",
            )
        if assessment_id and not risk.rests_on_current(str(assessment_id)):
            raise InvalidInput(
                N_(
                    "A submission rests on the project's current classification; this assessment's is superseded, "
                    "stale or not made yet."
                ),
                "assessment_id",
                "not_current_classification",
                "not the assessment of the current classification",
                current_classification=risk.current_classification(),
            )

    def submit_to_board(
        self, submission_id: UUID, meta: EventMeta, *, if_match: IfMatch = ANY_VERSION
    ) -> BoardSubmission:
        return self._board_step(
            submission_id, if_match, ProjectRisk.require_submittable, lambda submission: submission.submit(meta)
        )

    def record_advice(
        self,
        submission_id: UUID,
        opinion: BoardOpinion,
        text: str,
        conditions: list[str],
        meta: EventMeta,
        *,
        if_match: IfMatch = ANY_VERSION,
    ) -> BoardSubmission:
        return self._board_step(
            submission_id,
            if_match,
            ProjectRisk.require_current_submission,
            lambda submission: submission.record_advice(opinion, text, conditions, meta),
        )

    def record_decision(
        self,
        submission_id: UUID,
        decision: Decision,
        reasons: str,
        condition_responses: list[dict[str, str]],
        meta: EventMeta,
        *,
        if_match: IfMatch = ANY_VERSION,
    ) -> BoardSubmission:
        return self._board_step(
            submission_id,
            if_match,
            ProjectRisk.require_current_submission,
            lambda submission: submission.record_decision(decision, reasons, condition_responses, meta),
        )

    def _board_step(
        self,
        submission_id: UUID,
        if_match: IfMatch,
        allowed: Callable[[ProjectRisk, BoardSubmission, BoardReview], None],
        step: Callable[[BoardSubmission], None],
    ) -> BoardSubmission:
        """One Board step: the project's risk state says whether it is allowed now, the submission records it, and
        the save is guarded against a change of what the check read."""
        submission = self._for_change(submission_id, BoardSubmission, "Board submission", if_match)
        risk, review, unchanged = self._board_of(submission.project_id)
        allowed(risk, submission, review)
        step(submission)
        self.save(submission, guard=unchanged)
        return submission

    def _board_of(self, project_id: UUID) -> tuple[ProjectRisk, BoardReview, Guard]:
        """The project's risk state, where its Board review stands, and the guard that refuses the save if either
        changed before it commits: a Board step is recorded once, on its submission, so what it rests on (the
        classification, the other submissions) is checked again under the log's write lock (no window)."""
        risk = self.project_risk(project_id)
        with self.read_session() as session:
            seen = index.submission_states(session, project_id)
        review = risk.board_review(self.submission(submission_id) for submission_id in seen)
        version = risk.version

        def unchanged(session: Session) -> None:
            if self.stored_version(session, risk.id) != version or index.submission_states(session, project_id) != seen:
                raise ConcurrentChange("The project's classification or Board review changed meanwhile.")

        return risk, review, unchanged

    def board_review(self, risk: ProjectRisk) -> BoardReview:
        with self.read_session() as session:
            seen = index.submission_states(session, risk.project_id)
        return risk.board_review(self.submission(submission_id) for submission_id in seen)

    def board_queue(self) -> list[dict[str, Any]]:
        """Submissions awaiting advice (id and submitted_at), oldest first; the caller loads the page it shows.

        A submission whose classification was superseded (a newer one, or staleness) is not shown: the Board
        would only be refused (409) on it."""
        with self.read_session() as session:
            rows = index.awaiting_advice(session)
        return [row for row in rows if self.is_current_submission(row["submission_id"])]

    def is_current_submission(self, submission_id: UUID) -> bool:
        submission = self.submission(submission_id)
        risk = self.project_risk(submission.project_id)
        review = self.board_review(risk)
        return risk.rests_on_current(submission.assessment_id) and review.submission_id == str(submission.id)

    # -- incidents ------------------------------------------------------------------------------------

    def record_incident(self, project_id: UUID, details: dict[str, Any], meta: EventMeta) -> Incident:
        """The incident, and in the same save the staleness a severe one causes to a decided classification."""
        risk = self.project_risk(project_id)
        incident = Incident(project_id=project_id, ministry=risk.ministry, details=details, meta=meta)
        if risk.incident_recorded(incident.id, details["severity"], meta):
            self.save(incident, risk)
        else:
            self.save(incident)
        return incident

    def incidents_of(self, project_id: UUID) -> list[dict[str, Any]]:
        """The project's incidents (id and severity) in the order they were recorded."""
        with self.read_session() as session:
            return index.incidents_of(session, project_id)

    def report_incident(
        self, incident_id: UUID, reference: str, meta: EventMeta, *, if_match: IfMatch = ANY_VERSION
    ) -> Incident:
        incident = self._for_change(incident_id, Incident, "incident", if_match)
        incident.report_onward(reference, meta)
        self.save(incident)
        return incident

    def close_incident(
        self, incident_id: UUID, corrective_measures: str, meta: EventMeta, *, if_match: IfMatch = ANY_VERSION
    ) -> Incident:
        incident = self._for_change(incident_id, Incident, "incident", if_match)
        incident.close(corrective_measures, meta)
        self.save(incident)
        return incident

    # -- CAIO designations followed from the registry ---------------------------------------------------

    def designated_caio(self, ministry: str) -> str | None:
        with self.read_session() as session:
            return index.designated_caio(session, ministry)
