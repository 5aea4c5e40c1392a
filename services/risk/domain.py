"""The guideline's risk process as aggregates: per-project risk state, assessments, Board submissions, incidents.

Plain Python on the ``eventsourcing`` aggregate base: no HTTP, no SQL. ``ProjectRisk`` is the per-project
state the gate before operation reads; the other aggregates keep their own lifecycle and are saved together
with it, in one transaction, whenever they change it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.risk.contract import (
    CLASSIFIED,
    WITH_THE_BOARD,
    BoardOpinion,
    BoardStatus,
    Classification,
    Decision,
    OpenAssessment,
    Pending,
    PendingStep,
    RiskStatus,
    board_status_after,
    has_expired,
    is_severe,
    pending_steps,
    project_risk_id,
    ruleset_version_id,
)
from shared.errors import Incomplete as Incomplete
from shared.errors import RuleViolated
from shared.i18n import N_, Msg
from shared.meta import EventMeta


class RiskRuleViolated(RuleViolated):
    """A rule of the risk process refused the command."""


class Superseded(RiskRuleViolated):
    """The command rests on a classification that is no longer the project's current one (409 naming the
    current classification): the Board reviews, and the CAIO decides on, what is current."""

    def __init__(self, message: str, current: dict[str, Any] | None):
        super().__init__(message, current_classification=current)
        self.current = current


class Harm(StrEnum):
    none = "none"
    individuals = "individuals"
    public = "public"
    administrative_decisions = "administrative_decisions"


class RulesetVersion(Aggregate):
    """One published version of a ruleset; its id derives from (ruleset id, version): a version is published once."""

    @staticmethod
    def create_id(ruleset_id: str, version: int) -> UUID:
        return ruleset_version_id(ruleset_id, version)

    @event("RulesetPublished")
    def __init__(self, ruleset_id: str, version: int, content_hash: str, content: dict[str, Any], meta: EventMeta):
        self.ruleset_id = ruleset_id
        self.version = version
        self.content_hash = content_hash
        self.content = content


class ProjectRisk(Aggregate):
    """The risk state of one registered project: what is decided, what is pending and on whom."""

    @staticmethod
    def create_id(project_id: UUID) -> UUID:
        return project_risk_id(project_id)

    @event("RiskEvaluationBecameDue")
    def __init__(self, project_id: UUID, ministry: str, cause: str, meta: EventMeta):
        self.project_id = project_id
        self.ministry = ministry
        self.status = RiskStatus.due
        self.assessment_ids: list[str] = []
        self.current_assessment_id: str | None = None
        self.classification: Classification | None = None
        self.classified_assessment_id: str | None = None
        self.expires_at: datetime | None = None
        self.stale_causes: list[str] = []

    # -- evaluation ------------------------------------------------------------------------------

    def material_change(self, cause: str, meta: EventMeta) -> bool:
        """A material change makes a decided classification stale; returns whether anything was recorded."""
        if self.status not in CLASSIFIED:
            return False
        self._became_stale(cause=cause, meta=meta)
        return True

    @event("ClassificationBecameStale")
    def _became_stale(self, cause: str, meta: EventMeta) -> None:
        self.status = RiskStatus.stale
        self.stale_causes.append(cause)

    def start_assessment(self, assessment_id: UUID, meta: EventMeta) -> None:
        if self.current_assessment_id is not None:
            raise RiskRuleViolated(
                Msg(
                    "Assessment {assessment_id} is still open for this project; finish it first.",
                    assessment_id=self.current_assessment_id,
                )
            )
        self._assessment_started(assessment_id=str(assessment_id), meta=meta)

    @event("AssessmentStarted")
    def _assessment_started(self, assessment_id: str, meta: EventMeta) -> None:
        self.assessment_ids.append(assessment_id)
        self.current_assessment_id = assessment_id
        if self.status == RiskStatus.due:
            self.status = RiskStatus.in_progress

    def record_classification(
        self,
        assessment_id: UUID,
        classification: Classification,
        expires_at: datetime,
        registry_position: int,
        meta: EventMeta,
    ) -> None:
        """``registry_position``: the registry events the classification was made in knowledge of; the registry
        counts it current only if it is at or after the project's last material amendment."""
        self._classified(
            assessment_id=str(assessment_id),
            classification=classification.value,
            expires_at=expires_at.isoformat(),
            registry_position=registry_position,
            meta=meta,
        )

    @event("ProjectClassified")
    def _classified(
        self, assessment_id: str, classification: str, expires_at: str, registry_position: int, meta: EventMeta
    ) -> None:
        self.classification = Classification(classification)
        self.classified_assessment_id = assessment_id
        self.current_assessment_id = None
        self.expires_at = datetime.fromisoformat(expires_at)
        self.status = (
            RiskStatus.classified_high if self.classification == Classification.high else RiskStatus.classified_not_high
        )

    # -- Advisory Board ----------------------------------------------------------------------------

    def current_classification(self) -> dict[str, Any] | None:
        """The classification in force (not superseded by a newer one, not stale), or None."""
        if self.status not in CLASSIFIED or self.classification is None:
            return None
        return {"assessment_id": self.classified_assessment_id, "classification": self.classification.value}

    def rests_on_current(self, assessment_id: str | None) -> bool:
        current = self.current_classification()
        return current is not None and assessment_id is not None and current["assessment_id"] == str(assessment_id)

    def require_current(self, submission_id: UUID, assessment_id: str | None) -> None:
        """A submission stands only while the classification it rests on is the current one (GUIDELINE.md:
        the Board advises on, and the CAIO decides on, the project's current risk evaluation)."""
        current = self.current_classification()
        if not self.rests_on_current(assessment_id):
            now = (
                f"the current classification is {current['classification']} on assessment {current['assessment_id']}"
                if current
                else "the project has no current classification (none yet, or it became stale)"
            )
            raise Superseded(
                Msg(
                    "Submission {submission_id} rests on assessment {assessment_id}, whose classification is not "
                    "current: {now}. Draft a new submission on the current classification.",
                    submission_id=submission_id,
                    assessment_id=assessment_id,
                    now=now,
                ),
                current,
            )

    def board_review(self, submissions: Iterable[BoardSubmission]) -> BoardReview:
        """Where the Board review of the classification stands, from the project's submissions: the latest one
        submitted on the classified assessment is the one with the Board (each step is recorded once, on the
        submission; a new classification starts a new review)."""
        if self.classification is None:
            return BoardReview(BoardStatus.not_required)
        status = board_status_after(
            "ProjectClassified", {"classification": self.classification}, BoardStatus.not_required
        )
        on_this_classification = [
            submission
            for submission in submissions
            if submission.submitted_at is not None and submission.assessment_id == self.classified_assessment_id
        ]
        if not on_this_classification:
            return BoardReview(status)
        current = max(on_this_classification, key=lambda submission: submission.submitted_at or datetime.min)
        for event_type, data in current.board_steps():
            status = board_status_after(event_type, data, status)
        decided = Decision(current.decision["decision"]) if current.decision else None
        return BoardReview(status, str(current.id), decided)

    def require_submittable(self, submission: BoardSubmission, review: BoardReview) -> None:
        """Only a project whose current classification is high goes to the Board, one submission at a time."""
        self.require_current(submission.id, submission.assessment_id)
        if self.status != RiskStatus.classified_high:
            raise RiskRuleViolated(
                N_("Only a project whose current classification is high is submitted to the Advisory Board.")
            )
        if review.status in WITH_THE_BOARD:
            raise RiskRuleViolated(
                Msg(
                    "Submission {submission_id} is already with the Board for this project.",
                    submission_id=review.submission_id,
                )
            )

    def require_current_submission(self, submission: BoardSubmission, review: BoardReview) -> None:
        """Advice and decisions only on the submission now with the Board for the current classification."""
        self.require_current(submission.id, submission.assessment_id)
        if review.submission_id != str(submission.id):
            raise Superseded(
                Msg(
                    "Submission {submission_id} is not the one with the Board for the current classification "
                    "(that is {current}).",
                    submission_id=submission.id,
                    current=review.submission_id or "none yet",
                ),
                self.current_classification(),
            )

    # -- legacy: how logs written before each Board step was named once replay ---------------------------------

    @event("SubmittedToAdvisoryBoard")
    def _legacy_submitted_to_board(self, submission_id: str, meta: EventMeta) -> None:
        """The step lives on the submission (``BoardSubmissionSubmitted``); nothing of it is kept here."""

    @event("AdvisoryBoardAdviceReceived")
    def _legacy_advice_received(self, submission_id: str, opinion: str, meta: EventMeta) -> None:
        """The advice lives on the submission (``BoardAdviceRecorded``)."""

    @event("MinistryDecisionRecorded")
    def _legacy_decision_recorded(self, submission_id: str, decision: str, meta: EventMeta) -> None:
        """The decision lives on the submission (``CaioDecisionRecorded``)."""

    @event("IncidentNoted")
    def _legacy_incident_noted(self, incident_id: str, severity: str, meta: EventMeta) -> None:
        """In old logs a severe incident made the classification stale through this event."""
        if is_severe(severity) and self.status in CLASSIFIED:
            self.status = RiskStatus.stale
            self.stale_causes.append(severe_incident_cause(incident_id))

    # -- incidents -----------------------------------------------------------------------------------

    def incident_recorded(self, incident_id: UUID, severity: str, meta: EventMeta) -> bool:
        """A severe incident makes a decided classification stale (GUIDELINE.md); returns whether anything was
        recorded (the incident itself is the Incident's ``IncidentRecorded``)."""
        if not is_severe(severity) or self.status not in CLASSIFIED:
            return False
        self._became_stale(cause=severe_incident_cause(str(incident_id)), meta=meta)
        return True

    # -- queries ---------------------------------------------------------------------------------------

    def reevaluation_due_at(self) -> datetime | None:
        return self.expires_at if self.status in CLASSIFIED else None

    def is_expired(self, now: datetime) -> bool:
        return self.status in CLASSIFIED and has_expired(self.expires_at, now)

    def pending(
        self, now: datetime, open_assessment_submitted: bool = False, review: BoardReview | None = None
    ) -> list[dict[str, Any]]:
        """What is waiting, and on whom (role and ministry), as the risk API words it; where the Board review
        stands is the submissions' to know, and whether the open assessment was submitted the Assessment's
        (``RiskApplication`` asks them)."""
        assessment = None
        if self.current_assessment_id is not None:
            assessment = OpenAssessment(self.current_assessment_id, open_assessment_submitted)
        review = review or self.board_review([])
        steps = pending_steps(
            self.ministry, self.status, review.status, assessment, self.is_expired(now), review.submission_id
        )
        return [{"what": PENDING_WORDS[step.step].format(subject=step.subject), **_whom(step)} for step in steps]


def severe_incident_cause(incident_id: str) -> str:
    return f"severe incident {incident_id}"


@dataclass(frozen=True)
class BoardReview:
    """Where a project's Board review stands: its status, the submission with the Board (or last decided) and
    the CAIO's decision on it."""

    status: BoardStatus
    submission_id: str | None = None
    decision: Decision | None = None


def _whom(step: Pending) -> dict[str, Any]:
    return {"role": step.role.value, "ministry": step.ministry}


#: How the risk API words each pending step.
PENDING_WORDS = {
    PendingStep.evaluation: "risk evaluation",
    PendingStep.answers: "answers and submission of assessment {subject}",
    PendingStep.classification: "classification of assessment {subject}",
    PendingStep.stale_reevaluation: "re-evaluation",
    PendingStep.expired_reevaluation: "re-evaluation",
    PendingStep.board_submission: "Advisory Board submission",
    PendingStep.board_advice: "Advisory Board advice",
    PendingStep.decision: "ministry decision after the Board's advice",
}


class Assessment(Aggregate):
    """One risk evaluation of a project, pinned to the ruleset version it was made under."""

    @event("AssessmentOpened")
    def __init__(
        self, project_id: UUID, ministry: str, ruleset_id: str, ruleset_version: int, ruleset_hash: str, meta: EventMeta
    ):
        self.project_id = project_id
        self.ministry = ministry
        self.ruleset_id = ruleset_id
        self.ruleset_version = ruleset_version
        self.ruleset_hash = ruleset_hash
        self.answers: dict[str, dict[str, str]] = {}
        self.mitigations: dict[str, dict[str, str]] = {}
        self.screening: dict[str, Any] | None = None
        self.classification: dict[str, Any] | None = None
        self.answered_by: list[str] = []  # who recorded answers or submitted: they may not classify it

    @property
    def state(self) -> str:
        if self.classification is not None:
            return "classified"
        return "submitted" if self.screening is not None else "draft"

    def record_answers(
        self, answers: dict[str, dict[str, str]], mitigations: dict[str, dict[str, str]], meta: EventMeta
    ) -> None:
        if self.screening is not None:
            raise RiskRuleViolated(
                N_("The assessment has been submitted; its answers can no longer change. Open a new assessment.")
            )
        self._answers_recorded(answers=answers, mitigations=mitigations, meta=meta)

    @event("AssessmentAnswersRecorded")
    def _answers_recorded(
        self, answers: dict[str, dict[str, str]], mitigations: dict[str, dict[str, str]], meta: EventMeta
    ) -> None:
        self.answers.update(answers)
        self.mitigations.update(mitigations)
        self._answered_by(meta)

    def _answered_by(self, meta: EventMeta) -> None:
        if meta.actor_id not in self.answered_by:
            self.answered_by.append(meta.actor_id)

    def submit(self, screening: dict[str, Any], meta: EventMeta) -> None:
        if self.screening is not None:
            raise RiskRuleViolated(N_("The assessment has already been submitted."))
        self._screened(screening=screening, meta=meta)

    @event("AssessmentScreened")
    def _screened(self, screening: dict[str, Any], meta: EventMeta) -> None:
        self.screening = screening
        self._answered_by(meta)

    def classify(
        self, classification: Classification, reasons: str, override_justification: str | None, meta: EventMeta
    ) -> None:
        """The CAIO's decision; going against a likely-high-risk screening needs a recorded justification."""
        if self.screening is None:
            raise RiskRuleViolated(N_("Submit the assessment (and its screening) before classifying it."))
        if self.classification is not None:
            raise RiskRuleViolated(N_("The assessment is already classified."))
        override = classification == Classification.not_high and bool(self.screening.get("likely_high_risk"))
        if override and not (override_justification or "").strip():
            raise Incomplete(
                N_("Classifying not_high against a likely-high-risk screening needs an override justification."),
                ["override_justification"],
            )
        self._classified(
            classification=classification.value,
            reasons=reasons,
            override=override,
            override_justification=override_justification if override else None,
            meta=meta,
        )

    @event("AssessmentClassified")
    def _classified(
        self, classification: str, reasons: str, override: bool, override_justification: str | None, meta: EventMeta
    ) -> None:
        self.classification = {
            "classification": classification,
            "reasons": reasons,
            "override": override,
            "override_justification": override_justification,
            "by": meta.actor_id,
        }


SUBMISSION_PARTS = (
    "objectives",
    "expected_results",
    "assessment_id",
    "mitigation_measures",
    "quality_assurance",
    "supporting_information",
)
QUALITY_ASSURANCE_PARTS = ("evaluation_method", "metrics", "monitoring", "human_review", "incident_response")


def missing_submission_parts(content: dict[str, Any]) -> list[str]:
    """Every part of a Board submission that is missing or empty, as field paths."""
    missing = [part for part in SUBMISSION_PARTS if not content.get(part)]
    quality = content.get("quality_assurance") or {}
    if content.get("quality_assurance"):
        missing += [f"quality_assurance.{part}" for part in QUALITY_ASSURANCE_PARTS if not quality.get(part)]
        for index, metric in enumerate(quality.get("metrics") or []):
            missing += [
                f"quality_assurance.metrics[{index}].{key}" for key in ("name", "threshold") if not metric.get(key)
            ]
    for index, measure in enumerate(content.get("mitigation_measures") or []):
        missing += [
            f"mitigation_measures[{index}].{key}"
            for key in ("risk", "measure", "owner", "status")
            if not measure.get(key)
        ]
    return missing


class BoardStep(Aggregate.Event):
    """A step of a submission's Board review, recorded once, on the submission. Version 2 names the project
    (readers keeping their state by project need no other event); version 1 did not, and the project's risk
    aggregate recorded the same step again under a legacy name."""

    class_version = 2
    project_id: UUID | None
    meta: EventMeta

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["project_id"] = None


class BoardSubmission(Aggregate):
    """A high-risk project's submission to the Advanced AI Utilization Advisory Board, its advice and the decision."""

    class BoardSubmissionDrafted(Aggregate.Created):
        """Version 2 names the submission this one revises (``previous_submission_id``, None for a first one)."""

        class_version = 2
        project_id: UUID
        ministry: str
        content: dict[str, Any]
        meta: EventMeta
        previous_submission_id: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["previous_submission_id"] = None

    @event(BoardSubmissionDrafted)
    def __init__(
        self,
        project_id: UUID,
        ministry: str,
        content: dict[str, Any],
        meta: EventMeta,
        previous_submission_id: str | None = None,
    ):
        self.project_id = project_id
        self.ministry = ministry
        self.content = content
        self.previous_submission_id = previous_submission_id
        self.status = "draft"
        self.advice: dict[str, Any] | None = None
        self.decision: dict[str, Any] | None = None
        self.submitted_at: datetime | None = None

    @classmethod
    def resubmission_of(cls, previous: BoardSubmission, content: dict[str, Any], meta: EventMeta) -> BoardSubmission:
        """A new submission revising ``previous``, which the CAIO decided to revise and resubmit (GUIDELINE.md:
        the Board's advice and the ministry's response to it are part of the record; a revision starts a new
        submission that names the one it revises, so the two are read together)."""
        decided = previous.decision["decision"] if previous.decision else None
        if previous.status != "decided" or decided != Decision.revise_and_resubmit:
            raise RiskRuleViolated(
                Msg(
                    "Submission {submission_id} was not decided 'revise_and_resubmit' (it is {status}, decision: "
                    "{decision}); only such a submission is resubmitted.",
                    submission_id=previous.id,
                    status=previous.status,
                    decision=decided or "none",
                )
            )
        return cls(
            project_id=previous.project_id,
            ministry=previous.ministry,
            content=content,
            meta=meta,
            previous_submission_id=str(previous.id),
        )

    def edit(self, content: dict[str, Any], meta: EventMeta) -> None:
        """Replace the draft's content (the API merges the client's patch into it); only a draft is edited, and
        an edit that changes nothing records nothing."""
        if self.status != "draft":
            raise RiskRuleViolated(Msg("The submission is {status}; only a draft is edited.", status=self.status))
        if content != self.content:
            self._edited(content=content, meta=meta)

    @event("BoardSubmissionDraftEdited")
    def _edited(self, content: dict[str, Any], meta: EventMeta) -> None:
        self.content = content

    @property
    def assessment_id(self) -> str | None:
        """The assessment (and so the classification) the submission rests on."""
        value = self.content.get("assessment_id")
        return str(value) if value else None

    def submit(self, meta: EventMeta) -> None:
        if self.status != "draft":
            raise RiskRuleViolated(
                Msg("The submission is {status}; only a draft can be submitted.", status=self.status)
            )
        missing = missing_submission_parts(self.content)
        if missing:
            raise Incomplete(N_("The submission is incomplete."), missing)
        self.trigger_event(self.BoardSubmissionSubmitted, project_id=self.project_id, meta=meta)

    class BoardSubmissionSubmitted(BoardStep):
        """Applying it reads its own time: the submission was made when this event occurred (``modified_on``
        still holds the previous event's time here)."""

        def apply(self, aggregate: Any) -> None:
            aggregate.status = "awaiting_advice"
            aggregate.submitted_at = self.timestamp

    class BoardAdviceRecorded(BoardStep):
        opinion: str
        text: str
        conditions: list[str]

        def apply(self, aggregate: Any) -> None:
            aggregate.advice = {
                "opinion": self.opinion,
                "text": self.text,
                "conditions": self.conditions,
                "by": self.meta.actor_id,
            }
            aggregate.status = "awaiting_decision"

    class CaioDecisionRecorded(BoardStep):
        decision: str
        reasons: str
        condition_responses: list[dict[str, str]]

        def apply(self, aggregate: Any) -> None:
            aggregate.decision = {
                "decision": self.decision,
                "reasons": self.reasons,
                "condition_responses": self.condition_responses,
                "by": self.meta.actor_id,
            }
            aggregate.status = "decided"

    def board_steps(self) -> list[tuple[str, dict[str, Any]]]:
        """The Board steps this submission went through, as (event type, payload) for ``board_status_after``."""
        steps: list[tuple[str, dict[str, Any]]] = []
        if self.submitted_at is not None:
            steps.append(("BoardSubmissionSubmitted", {}))
        if self.advice is not None:
            steps.append(("BoardAdviceRecorded", {}))
        if self.decision is not None:
            steps.append(("CaioDecisionRecorded", {"decision": self.decision["decision"]}))
        return steps

    def record_advice(self, opinion: BoardOpinion, text: str, conditions: list[str], meta: EventMeta) -> None:
        if self.status != "awaiting_advice":
            raise RiskRuleViolated(
                Msg("The Board gives advice only on a submitted item; this submission is {status}.", status=self.status)
            )
        if opinion == BoardOpinion.advice_with_conditions and not conditions:
            raise Incomplete(N_("Advice with conditions must list its conditions."), ["conditions"])
        self.trigger_event(
            self.BoardAdviceRecorded,
            project_id=self.project_id,
            opinion=opinion.value,
            text=text,
            conditions=list(conditions),
            meta=meta,
        )

    def record_decision(
        self, decision: Decision, reasons: str, condition_responses: list[dict[str, str]], meta: EventMeta
    ) -> None:
        """The CAIO's decision; each of the Board's conditions must be accepted or answered."""
        if self.status != "awaiting_decision" or self.advice is None:
            raise RiskRuleViolated(
                Msg("The decision follows the Board's advice; this submission is {status}.", status=self.status)
            )
        answered = {response["condition"] for response in condition_responses}
        missing = [
            f"condition_responses[{condition!r}]"
            for condition in self.advice["conditions"]
            if condition not in answered
        ]
        unknown = sorted(answered - set(self.advice["conditions"]))
        if missing:
            raise Incomplete(N_("Every condition of the Board's advice must be accepted or answered."), missing)
        if unknown:
            raise Incomplete(
                N_("Responses name conditions the Board did not set."),
                [f"condition_responses[{name!r}]" for name in unknown],
            )
        self.trigger_event(
            self.CaioDecisionRecorded,
            project_id=self.project_id,
            decision=decision.value,
            reasons=reasons,
            condition_responses=condition_responses,
            meta=meta,
        )


class Incident(Aggregate):
    """An incident during a project's operation, its onward report to the Digital Agency, and its closure."""

    @event("IncidentRecorded")
    def __init__(self, project_id: UUID, ministry: str, details: dict[str, Any], meta: EventMeta):
        self.project_id = project_id
        self.ministry = ministry
        self.details = details
        self.reported_onward: dict[str, Any] | None = None
        self.closure: dict[str, Any] | None = None

    @property
    def severe(self) -> bool:
        return is_severe(self.details["severity"])

    def report_onward(self, reference: str, meta: EventMeta) -> None:
        if self.reported_onward is not None:
            raise RiskRuleViolated(N_("The incident has already been reported to the Digital Agency."))
        self._reported(reference=reference, meta=meta)

    @event("IncidentReportedToDigitalAgency")
    def _reported(self, reference: str, meta: EventMeta) -> None:
        self.reported_onward = {"reference": reference, "by": meta.actor_id}

    def close(self, corrective_measures: str, meta: EventMeta) -> None:
        if self.closure is not None:
            raise RiskRuleViolated(N_("The incident is already closed."))
        self._closed(corrective_measures=corrective_measures, meta=meta)

    @event("IncidentClosed")
    def _closed(self, corrective_measures: str, meta: EventMeta) -> None:
        self.closure = {"corrective_measures": corrective_measures, "by": meta.actor_id}
