"""The risk service's published contract: the events of its log and the rules other services may rely on.

Other services import this module and nothing else of the risk service (import-linter enforces it). Rules
that several readers apply to the risk log live here once: which incidents are severe, the Board-status
state machine, when a classification expires, what is pending on whom, and how a project's risk id derives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from shared.contracts import Contract, EventPayload, EventType

PROJECT_RISK_NAMESPACE = uuid5(NAMESPACE_URL, "urn:aigov:project-risk")
RULESET_NAMESPACE = uuid5(NAMESPACE_URL, "urn:aigov:ruleset")
DAYS_PER_MONTH = 30.4375


def project_risk_id(project_id: UUID | str) -> UUID:
    """The id of a project's risk aggregate, derived from the registry's project id."""
    return uuid5(PROJECT_RISK_NAMESPACE, str(project_id))


def ruleset_version_id(ruleset_id: str, version: int) -> UUID:
    """A ruleset version's id derives from (ruleset id, version), so a version is published once."""
    return uuid5(RULESET_NAMESPACE, f"{ruleset_id}@{version}")


class RiskStatus(StrEnum):
    due = "due"
    in_progress = "in_progress"
    classified_high = "classified_high"
    classified_not_high = "classified_not_high"
    stale = "stale"


CLASSIFIED = frozenset({RiskStatus.classified_high, RiskStatus.classified_not_high})


class Classification(StrEnum):
    high = "high"
    not_high = "not_high"


class BoardOpinion(StrEnum):
    no_concerns = "no_concerns"
    advice_with_conditions = "advice_with_conditions"
    serious_concerns = "serious_concerns"


class Decision(StrEnum):
    proceed = "proceed"
    proceed_with_conditions = "proceed_with_conditions"
    revise_and_resubmit = "revise_and_resubmit"
    discontinue = "discontinue"


PROCEED_DECISIONS = frozenset({Decision.proceed, Decision.proceed_with_conditions})


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


SEVERE = frozenset({Severity.high, Severity.critical})


def is_severe(severity: str) -> bool:
    """A severe incident (high or critical) makes a decided classification stale (GUIDELINE.md)."""
    return Severity(severity) in SEVERE


def add_months(moment: datetime, months: int) -> datetime:
    return moment + timedelta(days=round(months * DAYS_PER_MONTH))


def has_expired(expires_at: datetime | None, now: datetime) -> bool:
    """A classification is valid for the ruleset's validity period; after it, a re-evaluation falls due."""
    return expires_at is not None and now >= expires_at


# -- the Board-status state machine --------------------------------------------------------------------------


class BoardStatus(StrEnum):
    not_required = "not_required"
    submission_required = "submission_required"
    awaiting_advice = "awaiting_advice"
    awaiting_decision = "awaiting_decision"
    resubmission_required = "resubmission_required"
    decided = "decided"


WITH_THE_BOARD = frozenset({BoardStatus.awaiting_advice, BoardStatus.awaiting_decision})


#: Before schema version 2 of the Board events, the project's risk aggregate recorded each Board step a second
#: time, under another name. Those stored events stay as they are; a reader of such a log takes the project-level
#: name where the submission-level event (version 1) does not name the project. New logs record each step once.
LEGACY_BOARD_NAMES = {
    "SubmittedToAdvisoryBoard": "BoardSubmissionSubmitted",
    "AdvisoryBoardAdviceReceived": "BoardAdviceRecorded",
    "MinistryDecisionRecorded": "CaioDecisionRecorded",
}


def board_status_after(event_type: str, data: dict[str, Any], current: BoardStatus) -> BoardStatus:
    """The Board status of a project after one event about it (unchanged by any other event).

    A classification resets the Board review (a high one requires a submission); a submission waits for
    advice, advice for the CAIO's decision, and ``revise_and_resubmit`` asks for a new submission. The legacy
    project-level names of old logs mean the same steps."""
    event_type = LEGACY_BOARD_NAMES.get(event_type, event_type)
    if event_type == "ProjectClassified":
        high = data["classification"] == Classification.high
        return BoardStatus.submission_required if high else BoardStatus.not_required
    if event_type == "BoardSubmissionSubmitted":
        return BoardStatus.awaiting_advice
    if event_type == "BoardAdviceRecorded":
        return BoardStatus.awaiting_decision
    if event_type == "CaioDecisionRecorded":
        resubmit = data["decision"] == Decision.revise_and_resubmit
        return BoardStatus.resubmission_required if resubmit else BoardStatus.decided
    return current


def board_step_project(event_type: str, data: dict[str, Any]) -> str | None:
    """The project a Board step concerns, for a reader that keeps its state by project: named in the payload
    from version 2 of the submission-level events; None for version 1 (the legacy project-level event of the
    same save then carries the step) and for any other event."""
    if event_type in LEGACY_BOARD_NAMES.values():
        project_id = data.get("project_id")
        return str(project_id) if project_id else None
    return None


def board_advice_recorded(status: BoardStatus) -> bool:
    """Whether the Board has advised on the current submission."""
    return status in (BoardStatus.awaiting_decision, BoardStatus.decided, BoardStatus.resubmission_required)


# -- what is pending, and on whom ------------------------------------------------------------------------------


class PendingRole(StrEnum):
    planner = "planner"
    caio = "caio"
    board_member = "board_member"


class PendingStep(StrEnum):
    """The steps of the process a project can wait for (each service words them for its own readers)."""

    evaluation = "evaluation"
    answers = "answers"
    classification = "classification"
    stale_reevaluation = "stale_reevaluation"
    expired_reevaluation = "expired_reevaluation"
    board_submission = "board_submission"
    board_advice = "board_advice"
    decision = "decision"


@dataclass(frozen=True)
class OpenAssessment:
    """The project's assessment under way: its id, and whether its answers were submitted (then the CAIO
    classifies it) or not (then the planner answers and submits it)."""

    id: str
    submitted: bool


@dataclass(frozen=True)
class Pending:
    """One step the process waits for, the role that takes it, the ministry (for ministry roles) and the
    assessment or submission it concerns."""

    step: PendingStep
    role: PendingRole
    ministry: str | None
    subject: str | None = None


def pending_steps(
    ministry: str,
    status: RiskStatus,
    board: BoardStatus,
    assessment: OpenAssessment | None,
    expired: bool,
    submission_id: str | None = None,
) -> list[Pending]:
    """What waits on whom for one project (GUIDELINE.md): the evaluation under way or due first, then the
    Board's steps for a project classified high."""
    waiting: list[Pending] = []
    if assessment is not None and assessment.submitted:
        waiting.append(Pending(PendingStep.classification, PendingRole.caio, ministry, assessment.id))
    elif assessment is not None:
        waiting.append(Pending(PendingStep.answers, PendingRole.planner, ministry, assessment.id))
    elif status == RiskStatus.due:
        waiting.append(Pending(PendingStep.evaluation, PendingRole.planner, ministry))
    elif status == RiskStatus.stale:
        waiting.append(Pending(PendingStep.stale_reevaluation, PendingRole.planner, ministry))
    elif expired:
        waiting.append(Pending(PendingStep.expired_reevaluation, PendingRole.planner, ministry))
    if status == RiskStatus.classified_high:
        waiting += _board_steps(ministry, board, submission_id)
    return waiting


def _board_steps(ministry: str, board: BoardStatus, submission_id: str | None) -> list[Pending]:
    if board in (BoardStatus.submission_required, BoardStatus.resubmission_required):
        return [Pending(PendingStep.board_submission, PendingRole.caio, ministry)]
    if board == BoardStatus.awaiting_advice:
        return [Pending(PendingStep.board_advice, PendingRole.board_member, None, submission_id)]
    if board == BoardStatus.awaiting_decision:
        return [Pending(PendingStep.decision, PendingRole.caio, ministry, submission_id)]
    return []


# -- event payloads ------------------------------------------------------------------------------------------------


class Created(EventPayload):
    """The first event of an aggregate also names the aggregate's class (the library's ``originator_topic``)."""

    originator_topic: str


class RulesetPublished(Created):
    ruleset_id: str
    version: int
    content_hash: str
    content: dict[str, Any]


class RiskEvaluationBecameDue(Created):
    project_id: UUID
    ministry: str
    cause: str


class ClassificationBecameStale(EventPayload):
    cause: str


class AssessmentStarted(EventPayload):
    assessment_id: str


class ProjectClassified(EventPayload):
    assessment_id: str
    classification: Classification
    expires_at: datetime
    registry_position: int


class SubmittedToAdvisoryBoard(EventPayload):
    """Legacy: no longer recorded (the step is ``BoardSubmissionSubmitted``, version 2)."""

    submission_id: str


class AdvisoryBoardAdviceReceived(EventPayload):
    """Legacy: no longer recorded (the advice is ``BoardAdviceRecorded``, version 2)."""

    submission_id: str
    opinion: BoardOpinion


class MinistryDecisionRecorded(EventPayload):
    """Legacy: no longer recorded (the decision is ``CaioDecisionRecorded``, version 2)."""

    submission_id: str
    decision: Decision


class IncidentNoted(EventPayload):
    """Legacy: no longer recorded. The incident is ``IncidentRecorded``; when a severe one makes the project's
    classification stale, the project's risk aggregate records ``ClassificationBecameStale``."""

    incident_id: str
    severity: Severity


class AssessmentOpened(Created):
    project_id: UUID
    ministry: str
    ruleset_id: str
    ruleset_version: int
    ruleset_hash: str


class AssessmentAnswersRecorded(EventPayload):
    answers: dict[str, dict[str, str]]
    mitigations: dict[str, dict[str, str]]


class AssessmentScreened(EventPayload):
    screening: dict[str, Any]


class AssessmentClassified(EventPayload):
    classification: Classification
    reasons: str
    override: bool
    override_justification: str | None


class BoardSubmissionDrafted(Created):
    """Version 2 adds ``previous_submission_id``: the submission this one revises after a CAIO decided
    ``revise_and_resubmit`` (None for a first submission; version 1 had none)."""

    project_id: UUID
    ministry: str
    content: dict[str, Any]
    previous_submission_id: str | None


def _drafted_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "previous_submission_id": None}


class BoardSubmissionDraftEdited(EventPayload):
    """The draft's whole content after the edit (a client's merge patch applied to what was there)."""

    content: dict[str, Any]


class BoardStep(EventPayload):
    """A step of a submission's Board review. Version 2 names the project (``project_id``), so a reader keeping
    its state by project needs no other event; version 1 did not (None when lifted)."""

    project_id: UUID | None


class BoardSubmissionSubmitted(BoardStep):
    pass


class BoardAdviceRecorded(BoardStep):
    opinion: BoardOpinion
    text: str
    conditions: list[str]


class CaioDecisionRecorded(BoardStep):
    decision: Decision
    reasons: str
    condition_responses: list[dict[str, str]]


def _board_step_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "project_id": None}


def _board_step(name: str, payload: type[EventPayload], description: str) -> EventType:
    return EventType(name, payload, version=2, upcasters={1: _board_step_v1_v2}, description=description)


class IncidentRecorded(Created):
    project_id: UUID
    ministry: str
    details: dict[str, Any]


class IncidentReportedToDigitalAgency(EventPayload):
    reference: str


class IncidentClosed(EventPayload):
    corrective_measures: str


def _event(name: str, payload: type[EventPayload], description: str) -> EventType:
    return EventType(name, payload, description=description)


RISK = Contract(
    "risk",
    [
        _event("RulesetPublished", RulesetPublished, "A ruleset version was published with its content hash."),
        _event("RiskEvaluationBecameDue", RiskEvaluationBecameDue, "A registered project needs its evaluation."),
        _event("ClassificationBecameStale", ClassificationBecameStale, "A material change made it stale."),
        _event("AssessmentStarted", AssessmentStarted, "An assessment of the project was opened."),
        _event("ProjectClassified", ProjectClassified, "The designated CAIO classified the project."),
        _event("SubmittedToAdvisoryBoard", SubmittedToAdvisoryBoard, "Legacy name of BoardSubmissionSubmitted."),
        _event("AdvisoryBoardAdviceReceived", AdvisoryBoardAdviceReceived, "Legacy name of BoardAdviceRecorded."),
        _event("MinistryDecisionRecorded", MinistryDecisionRecorded, "Legacy name of CaioDecisionRecorded."),
        _event("IncidentNoted", IncidentNoted, "Legacy: IncidentRecorded, and ClassificationBecameStale if severe."),
        _event("AssessmentOpened", AssessmentOpened, "An assessment was opened, pinned to a ruleset version."),
        _event("AssessmentAnswersRecorded", AssessmentAnswersRecorded, "Answers to the ruleset's questions."),
        _event("AssessmentScreened", AssessmentScreened, "The assessment was submitted and screened."),
        _event("AssessmentClassified", AssessmentClassified, "The CAIO's classification of the assessment."),
        EventType(
            "BoardSubmissionDrafted",
            BoardSubmissionDrafted,
            version=2,
            upcasters={1: _drafted_v1_v2},
            description="A Board submission was drafted (a first one, or a revision of an earlier one).",
        ),
        _event("BoardSubmissionDraftEdited", BoardSubmissionDraftEdited, "A draft's content was edited."),
        _board_step("BoardSubmissionSubmitted", BoardSubmissionSubmitted, "The draft was submitted to the Board."),
        _board_step("BoardAdviceRecorded", BoardAdviceRecorded, "The Board's advice on the submission."),
        _board_step("CaioDecisionRecorded", CaioDecisionRecorded, "The CAIO's decision on the submission."),
        _event("IncidentRecorded", IncidentRecorded, "An incident during operation was recorded."),
        _event("IncidentReportedToDigitalAgency", IncidentReportedToDigitalAgency, "Reported onward."),
        _event("IncidentClosed", IncidentClosed, "The incident was closed with corrective measures."),
    ],
    description="Rulesets, risk evaluations and classifications, the Advisory Board workflow and incidents.",
)
