"""The risk service's request and response models."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.risk.contract import BoardOpinion, Classification, Decision, RiskStatus, Severity
from services.risk.domain import Harm
from services.risk.evaluation import Ruleset
from shared.pagination import Page
from shared.schemas import LogEntryOut, LongText, Reason, ShortText, StrictModel, Timestamp

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]


class PendingItem(BaseModel):
    what: str
    role: str
    ministry: str | None


class ProjectRiskOut(BaseModel):
    project_id: str
    ministry: str
    status: RiskStatus
    evaluation_due: bool
    classification: Classification | None
    classified_assessment_id: str | None
    current_assessment_id: str | None
    assessment_ids: list[str]
    reevaluation_due_at: str | None = Field(
        description="When the current classification expires and a re-evaluation falls due."
    )
    expired: bool
    board_status: str
    submission_id: str | None
    decision: Decision | None
    incident_ids: list[str]
    severe_incidents: list[str]
    pending: list[PendingItem]
    stale_causes: list[str]
    version: int
    registry_position: int


class RulesetSummary(BaseModel):
    ruleset_id: str
    version: int
    content_hash: str
    title: str
    published_at: str


class Exact(BaseModel):
    """A part of an answer the service builds itself: every key is declared (unknown keys are an error)."""

    model_config = ConfigDict(extra="forbid")


class RulesetOut(BaseModel):
    ruleset_id: str
    version: int
    content_hash: str
    content: Ruleset = Field(description="The ruleset as published (its `content_hash` is over these bytes).")


class ScreeningSummary(Exact):
    """A screening's outcome: whether likely high risk, and the level."""

    likely_high_risk: bool | None
    level: str | None


class IncompleteScreening(Exact):
    """The questions a ruleset version would still need answered before it could screen the assessment."""

    incomplete: list[str]


class RescoreItem(BaseModel):
    assessment_id: str
    project_id: str
    ministry: str
    pinned_version: int
    before: ScreeningSummary
    after: ScreeningSummary | IncompleteScreening


class AnswerRecord(Exact):
    choice: str
    justification: str


class ScreeningDriver(Exact):
    """An answer that put its viewpoint on the high side."""

    question: str
    choice: str
    label_en: str
    label_ja: str


class ViewpointResult(Exact):
    viewpoint: str
    label_en: str
    label_ja: str
    high: bool
    points: int
    max_points: int
    drivers: list[ScreeningDriver]


class Screening(Exact):
    """The ruleset's screening of the answers: per viewpoint, score, level, likely high risk, and why."""

    ruleset_id: str
    ruleset_version: int
    viewpoints: list[ViewpointResult]
    high_viewpoints: list[str]
    raw_score: int
    max_score: int
    mitigation_score: int
    mitigation_max: int
    reduction_applied: bool
    score: float
    level: str
    likely_high_risk: bool
    explanation: list[str]


class ClassificationRecord(Exact):
    """The CAIO's classification of the assessment."""

    classification: Classification
    reasons: str
    override: bool
    override_justification: str | None
    by: str


class AdviceRecord(Exact):
    opinion: BoardOpinion
    text: str
    conditions: list[str]
    by: str


class ConditionAnswer(Exact):
    condition: str
    response: str
    note: str = ""


class DecisionRecord(Exact):
    decision: Decision
    reasons: str
    condition_responses: list[ConditionAnswer]
    by: str


class OnwardReport(Exact):
    """The incident's report to the Digital Agency."""

    reference: str
    by: str


class IncidentClosure(Exact):
    corrective_measures: str
    by: str


class RescoreOut(BaseModel):
    ruleset_id: str
    version: int
    dry_run: bool = True
    changes: list[RescoreItem]


class AssessmentOpen(StrictModel):
    ruleset_id: Identifier = "jp-genai-2.0"


class Answer(StrictModel):
    choice: Identifier
    justification: LongText


class AnswersIn(StrictModel):
    answers: dict[Identifier, Answer] = Field(default_factory=dict, max_length=200)
    mitigations: dict[Identifier, Answer] = Field(default_factory=dict, max_length=200)


class ClassificationIn(StrictModel):
    classification: Classification
    reasons: LongText
    override_justification: LongText | None = Field(
        default=None, description="Required when classifying not_high against a likely-high-risk screening."
    )


class AssessmentOut(BaseModel):
    id: str
    project_id: str
    ministry: str
    ruleset_id: str
    ruleset_version: int
    ruleset_hash: str
    state: str
    answers: dict[str, AnswerRecord]
    mitigations: dict[str, AnswerRecord]
    screening: Screening | None
    classification: ClassificationRecord | None
    version: int


class MitigationMeasure(StrictModel):
    risk: ShortText
    measure: LongText
    owner: ShortText
    status: Annotated[str, StringConstraints(pattern=r"^(planned|in_progress|implemented)$")]


class Metric(StrictModel):
    name: ShortText
    threshold: ShortText


class QualityAssurance(StrictModel):
    evaluation_method: LongText | None = None
    metrics: list[Metric] = Field(default_factory=list, max_length=50)
    monitoring: LongText | None = None
    human_review: LongText | None = None
    incident_response: LongText | None = None


class Reference(StrictModel):
    title: ShortText
    reference: ShortText


class SubmissionDraft(StrictModel):
    """A draft may be incomplete; completeness is checked when the CAIO submits it."""

    objectives: LongText | None = None
    expected_results: LongText | None = None
    assessment_id: str | None = None
    mitigation_measures: list[MitigationMeasure] = Field(default_factory=list, max_length=100)
    quality_assurance: QualityAssurance | None = None
    supporting_information: list[Reference] = Field(default_factory=list, max_length=100)


class SubmissionDraftIn(SubmissionDraft):
    """A draft's content, and for a revision the submission it revises."""

    previous_submission_id: UUID | None = Field(
        default=None,
        description="The submission this one revises: one of the same project that the CAIO decided to revise "
        "and resubmit. Omitted for a first submission.",
    )


class SubmissionEdit(SubmissionDraft):
    """A JSON merge patch (RFC 7396) of a draft's content: each member sent replaces the draft's, ``null``
    resets it, members not sent stay as they are."""


class SubmissionOut(BaseModel):
    id: str
    project_id: str
    ministry: str
    status: str
    previous_submission_id: str | None = Field(
        description="The earlier submission this one revises after a 'revise_and_resubmit' decision, if any."
    )
    content: SubmissionContent
    advice: AdviceRecord | None
    decision: DecisionRecord | None
    version: int


class AdviceIn(StrictModel):
    opinion: BoardOpinion
    text: LongText
    conditions: list[ShortText] = Field(default_factory=list, max_length=50)


class ConditionResponse(StrictModel):
    condition: ShortText
    response: Annotated[str, StringConstraints(pattern=r"^(accepted|answered)$")]
    note: Annotated[str, StringConstraints(max_length=2000)] = ""


class DecisionIn(StrictModel):
    decision: Decision
    reasons: LongText
    condition_responses: list[ConditionResponse] = Field(default_factory=list, max_length=50)


class IncidentIn(StrictModel):
    occurred_at: Timestamp
    what_happened: LongText
    harm: Harm
    severity: Severity
    immediate_actions: LongText


class IncidentReportIn(StrictModel):
    reference: ShortText
    reason: Reason | None = None


class IncidentCloseIn(StrictModel):
    corrective_measures: LongText


class IncidentOut(BaseModel):
    id: str
    project_id: str
    ministry: str
    details: IncidentDetails
    severe: bool
    reported_onward: OnwardReport | None
    closure: IncidentClosure | None
    version: int


class RulesetList(Page[RulesetSummary]):
    """Published ruleset versions by id and version."""


class SubmissionHistory(Page[LogEntryOut]):
    """A submission's events in log order: drafted, each edit, submitted, advised, decided."""


class BoardQueue(Page[SubmissionOut]):
    """Submissions awaiting the Board's advice, oldest first."""


class SubmissionContent(SubmissionDraft):
    """A Board submission's content as drafted (the draft's fields, named apart from the request body)."""


class IncidentDetails(Exact):
    """An incident as recorded."""

    occurred_at: str
    what_happened: str
    harm: Harm
    severity: Severity
    immediate_actions: str


# The response models above name these two before they are defined.
for _model in (SubmissionOut, IncidentOut, BoardQueue):
    _model.model_rebuild()
