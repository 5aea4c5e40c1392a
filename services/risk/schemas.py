"""The risk service's request and response models."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from services.risk.contract import BoardOpinion, Classification, Decision, RiskStatus, Severity
from services.risk.domain import Harm
from shared.pagination import Page
from shared.schemas import LongText, Reason, ShortText, StrictModel, Timestamp

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


class RulesetOut(BaseModel):
    ruleset_id: str
    version: int
    content_hash: str
    content: dict[str, Any]


class RescoreItem(BaseModel):
    assessment_id: str
    project_id: str
    ministry: str
    pinned_version: int
    before: dict[str, Any]
    after: dict[str, Any]


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
    answers: dict[str, Any]
    mitigations: dict[str, Any]
    screening: dict[str, Any] | None
    classification: dict[str, Any] | None
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


class SubmissionOut(BaseModel):
    id: str
    project_id: str
    ministry: str
    status: str
    content: dict[str, Any]
    advice: dict[str, Any] | None
    decision: dict[str, Any] | None
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
    details: dict[str, Any]
    severe: bool
    reported_onward: dict[str, Any] | None
    closure: dict[str, Any] | None
    version: int


class RulesetList(Page[RulesetSummary]):
    """Published ruleset versions by id and version."""


class BoardQueue(Page[SubmissionOut]):
    """Submissions awaiting the Board's advice, oldest first."""
