"""Reporting's response models: every report states the log positions it reflects, and the moment asked for.

Every JSON body is a named model down to its leaves, so generated clients (Python, TypeScript) get typed
fields rather than dictionaries. Models of documents the projection builds forbid unknown keys: a key the
projection writes but this module does not declare fails the tests instead of vanishing from the answer.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.pagination import Page
from shared.schemas import LogEntryOut


class Exact(BaseModel):
    """A document of the projection: every key it has is declared here (unknown keys are an error)."""

    model_config = ConfigDict(extra="forbid")


class LogPositions(Exact):
    """The registry and risk log positions an answer reflects."""

    registry: int
    risk: int


class CaioRef(BaseModel):
    officer_id: str
    name: str | None


class SheetStatusRecord(Exact):
    """One check sheet's status as the registry last recorded it: the items that apply and are not answered
    (`missing`), and those answered not_met without the designated CAIO's risk acceptance (`unaccepted`)."""

    kind: str = Field(description="`procurement` or `contract`.")
    sheet_id: str | None
    version: int | None
    state: str = Field(description="`not_answered`, `incomplete` or `complete`.")
    missing: list[str]
    unaccepted: list[str]


class InventoryItem(BaseModel):
    project_id: str
    ministry: str
    title: str
    stage: str
    risk_status: str
    classification: str | None
    board_status: str
    caio: CaioRef | None
    incidents: int
    check_sheets: list[SheetStatusRecord] = Field(
        default_factory=list, description="The procurement and contract check sheets' status, as last recorded."
    )
    registered_at: str
    updated_at: str


class ReportMeta(BaseModel):
    positions: LogPositions = Field(description="The registry and risk log positions this report reflects.")
    as_of: str | None = Field(default=None, description="The moment asked for, if any.")


class Inventory(ReportMeta, Page[InventoryItem]):
    count: int = Field(description="How many projects match, across all pages.")


class SubmissionRef(Exact):
    id: str
    submitted_at: str | None


class BoardAdvice(Exact):
    """The Advisory Board's advice on the current submission."""

    opinion: str
    text: str
    conditions: list[str]
    at: str


class ConditionAnswer(Exact):
    condition: str
    response: str
    note: str = ""


class CaioDecision(Exact):
    """The CAIO's decision on the current submission."""

    decision: str
    reasons: str
    condition_responses: list[ConditionAnswer]
    at: str
    by: str


class PreviousSubmission(Exact):
    """The submission the current one revises (after a 'revise_and_resubmit' decision), shown beside it."""

    id: str
    submitted_at: str | None
    advice: BoardAdvice | None
    decision: CaioDecision | None


class HighRiskItem(InventoryItem):
    classified_at: str | None
    submission: SubmissionRef | None
    advice: BoardAdvice | None
    decision: CaioDecision | None
    previous_submission: PreviousSubmission | None = Field(
        default=None, description="The submission the current one revises, with the Board's advice and the decision."
    )


class HighRiskRegister(ReportMeta, Page[HighRiskItem]):
    count: int = Field(description="How many projects are classified high, across all pages.")


class PendingItem(BaseModel):
    project_id: str
    title: str
    project_ministry: str
    what: str
    role: str
    ministry: str | None


class Pending(ReportMeta, Page[PendingItem]):
    count: int = Field(description="How many items are pending, across all pages.")


class TimelineEntry(LogEntryOut):
    """One event about the project, from the registry's or the risk service's log (``service`` says which)."""


class Timeline(BaseModel):
    project_id: str
    as_of: str | None
    events: list[TimelineEntry]


class ModelInUse(Exact):
    provider: str
    model: str
    deployment: str


class DataDescription(Exact):
    confidentiality: str
    personal_data: bool


class ProjectDetails(Exact):
    """What the planner registered and amended, as the registry's events carry it."""

    title: str
    objectives: str
    description: str
    business_area: str
    users: str
    models: list[ModelInUse]
    data: DataDescription
    expected_users: int
    owner: str
    nature_of_work: str | None = None
    human_review: str | None = None


class CheckSheetAnswer(Exact):
    item: str
    answer: str
    note: str = ""


class ProcurementDetails(Exact):
    vendor: str
    contract_reference: str
    procurement_checks: list[CheckSheetAnswer]
    contract_checks: list[CheckSheetAnswer]


class RegistryRecord(Exact):
    """The project as the registry's log has it."""

    ministry: str
    title: str
    stage: str
    details: ProjectDetails
    procurement: ProcurementDetails | None
    check_sheets: list[SheetStatusRecord] = Field(default_factory=list)
    registered_at: str
    updated_at: str
    registered_by: str | None = None
    version: int | None = None
    publications: list[Publication] = Field(default_factory=list, description="Every publication, oldest first.")


class PublicationWithholding(Exact):
    field: str
    reason: str
    text: str | None


class Publication(Exact):
    """A publication of the public record as the registry's log has it (withheld fields carry their reason)."""

    publication: int
    published_at: str
    project_version: int
    log: PublishedLog
    record: PublishedRecord
    withheld: list[PublicationWithholding]


class AssessmentSummary(Exact):
    id: str
    state: str
    ruleset: str = Field(description="`<ruleset id>@<version>` the assessment is pinned to.")
    likely_high_risk: bool | None
    level: str | None
    high_viewpoints: list[str] | None = None


class RiskRecord(Exact):
    """The project's risk evaluation as the risk log has it."""

    status: str
    classification: str | None
    classified_at: str | None
    expires_at: str | None
    override: bool
    assessment: AssessmentSummary | None
    stale_causes: list[str]
    reasons: str | None = None


class BoardRecord(Exact):
    """The Advisory Board workflow of the current classification."""

    status: str
    submission_id: str | None
    submitted_at: str | None
    advice: BoardAdvice | None
    decision: CaioDecision | None
    drafts: list[str] = Field(default_factory=list, description="Every Board submission drafted, oldest first.")
    revisions: dict[str, str] = Field(
        default_factory=dict,
        description="Revisions drafted after 'revise_and_resubmit': each revision's id → the submission it revises.",
    )
    previous: PreviousSubmission | None = Field(
        default=None, description="The submission the current one revises, with its advice and decision."
    )


class IncidentRecord(Exact):
    id: str
    occurred_at: str
    recorded_at: str
    severity: str
    harm: str
    what_happened: str
    reported_to_digital_agency: str | None
    closed: str | None


class ProjectRecord(Exact):
    """A project's full state, registry and risk, rebuilt from both logs."""

    project_id: str
    registry: RegistryRecord
    risk: RiskRecord
    board: BoardRecord
    incidents: list[IncidentRecord]
    caio: CaioRef | None
    positions: LogPositions


class ProjectState(ReportMeta):
    project: ProjectRecord


class PeriodicSystem(InventoryItem):
    classification_stale: bool = Field(description="The classification stands but is stale: re-evaluation due.")
    incidents_in_period: int
    severe_incidents_in_period: int


class RiskGroupCounts(Exact):
    classified_high: int
    classified_not_high: int
    other: int


class StageRiskMatrix(Exact):
    """How many systems are at each stage, by risk group (the report's chart)."""

    planning: RiskGroupCounts
    procurement: RiskGroupCounts
    development: RiskGroupCounts
    operation: RiskGroupCounts
    suspended: RiskGroupCounts
    retired: RiskGroupCounts


class PeriodicReport(Exact):
    """A ministry's periodic report to the Digital Agency for one half-year."""

    ministry: str
    ministry_name: str | None
    period: str
    period_start: str
    period_end: str
    caio: CaioRef | None
    systems: list[PeriodicSystem]
    by_stage_and_risk: StageRiskMatrix
    incidents_in_period: int
    severe_incidents_in_period: int = Field(description="Incidents of high or critical severity in the period.")
    stale_classifications: int
    usage_rules: UsageRulesVersion | None = Field(description="The ministry's usage rules in force at `as_of`.")
    as_of: str | None = Field(description="The moment the report is as of (the request's time when live).")
    positions: LogPositions
    content_hash: str = Field(
        description="`sha256:<hex>` of the report's canonical JSON (sorted keys, no whitespace) without this field: "
        "what the CAIO names when submitting it."
    )


class PublicSummary(Exact):
    """Tier 1: the plain-language summary."""

    name: str
    summary: str
    ministry: str
    stage: str
    contact: str | None


class Ownership(Exact):
    ministry: str
    owner: str | None
    chief_ai_officer: CaioRef | None


class Purpose(Exact):
    objectives: str | None
    description: str | None
    business_area: str | None
    nature_of_work: str | None


class HumanOversight(Exact):
    human_review: str | None
    users: str | None


class RiskSummary(Exact):
    status: str
    classification: str | None
    advisory_board: str
    board_advice: str | None
    decision: str | None


class PublicDetail(Exact):
    """Tier 2: owner, purpose, data, models, human oversight and risks."""

    owner: Ownership
    purpose: Purpose
    data: DataDescription | None
    models: list[ModelInUse] | None
    human_oversight: HumanOversight
    risks: RiskSummary


class PublicRecord(Exact):
    """A project's public record in two tiers."""

    project_id: str
    tier_1: PublicSummary
    tier_2: PublicDetail
    positions: LogPositions


class CheckpointOut(BaseModel):
    service: str
    head_position: int
    head_hash: str
    taken_at: str
    key_id: str
    signature: str


class CheckpointList(Page[CheckpointOut]):
    """Signed checkpoints, oldest first."""


class PublicKeyOut(BaseModel):
    key_id: str
    algorithm: str = "Ed25519"
    public_key_pem: str


# -- the public register (/public/v1): only what the designated CAIO published, no token -------------------------


class WithheldValue(Exact):
    """A withheld field: shown with its reason, never with its value."""

    withheld: bool
    reason: str = Field(
        description="security, personal_information, commercial_confidentiality, law_enforcement or other"
    )
    reason_label: str | None = Field(
        default=None, description="The reason in the response's language (the public register's answers)."
    )
    text: str | None


class PublishedRecord(Exact):
    """The record as published: tier 1 (name, summary, ministry, stage, contact) and tier 2; each non-mandatory
    field either its published value or ``WithheldValue``."""

    name: str
    summary: str
    ministry: str
    stage: str
    contact: str
    human_review: str
    description: str | WithheldValue | None
    business_area: str | WithheldValue | None
    nature_of_work: str | WithheldValue | None
    users: str | WithheldValue | None
    data: DataDescription | WithheldValue | None
    models: list[ModelInUse] | WithheldValue | None
    vendor: str | WithheldValue | None
    chief_ai_officer: str | WithheldValue | None
    risk_classification: str | WithheldValue | None
    classification_current: bool | WithheldValue | None
    board_advice_recorded: bool | WithheldValue | None
    decision: str | WithheldValue | None


class PublishedLog(Exact):
    """Where the publication sits in the registry's log: check it against the registry's public transparency log
    (``GET /v1/log/checkpoint``, ``GET /v1/log/proof/inclusion?position=…&tree_size=…`` on the registry)."""

    service: str
    position: int
    hash: str | None


class PublishedVersionRef(Exact):
    publication: int
    published_at: str
    log: PublishedLog


class PublishedInclusionProof(Exact):
    """RFC 9162 proof that the publication's event is in the registry's transparency log of ``tree_size`` leaves:
    compare the root with the registry's checkpoint of that size (``GET /v1/log/checkpoint`` there), or ask the
    registry ``GET /v1/log/proof/inclusion?position=…&tree_size=…`` for the size of a checkpoint you hold."""

    position: int
    leaf_index: int
    tree_size: int
    leaf_hash: str
    hashes: list[str]
    root_hash: str = Field(description="The tree's root at tree_size, hex.")


class PublishedVersion(Exact):
    """One published version of a project's public record."""

    project_id: str
    publication: int
    published_at: str
    latest: bool = Field(description="Whether this is the latest publication.")
    out_of_date: bool = Field(description="Whether the project changed after its latest publication.")
    log: PublishedLog
    proof: PublishedInclusionProof | None = Field(
        default=None, description="Inclusion in the registry's transparency log (null where it cannot be read)."
    )
    language: str
    labels: dict[str, str] = Field(description="Each field's name in the response's language.")
    record: PublishedRecord


class PublicProject(PublishedVersion):
    """The latest published record of a project and the list of its versions."""

    versions: list[PublishedVersionRef]


class PublicRegisterItem(Exact):
    project_id: str
    ministry: str
    name: str
    stage: str
    publication: int
    published_at: str
    out_of_date: bool


class PublicRegister(Page[PublicRegisterItem]):
    """Published projects in registration order."""

    language: str
# -- usage rules and periodic-report submissions (issue 16, items 7 and 8) --------------------------------------


class UsageRulesVersion(Exact):
    """One version of a ministry's usage rules for generative AI (利活用ルール), as the registry recorded it."""

    ministry: str
    version: int
    title: str
    text: str | None
    reference: str | None
    content_hash: str
    effective_from: str = Field(description="The date it takes effect, from the start of that day in Japan (JST).")
    issued_at: str
    issued_by: str
    issued_by_name: str
    reason: str | None
    position: int = Field(description="The registry log position of the event that issued it.")


class UsageRulesInForce(ReportMeta):
    """The ministry's usage rules: the version in force at the moment, and every version issued by then."""

    ministry: str
    in_force_at: str = Field(description="The time the version in force is chosen for (`as_of`, else now).")
    in_force: UsageRulesVersion | None
    versions: list[UsageRulesVersion]


class PublicUsageRulesVersion(Exact):
    """A version of a ministry's usage rules as the public register shows it (no officer identities)."""

    version: int
    title: str
    text: str | None
    reference: str | None
    content_hash: str
    effective_from: str
    issued_at: str


class PublicUsageRules(Exact):
    ministry: str
    ministry_name: str | None
    in_force_at: str
    in_force: PublicUsageRulesVersion | None
    versions: list[PublicUsageRulesVersion]


class SubmittedReport(Exact):
    """A periodic report as the ministry's CAIO submitted it."""

    ministry: str
    period: str
    content_hash: str
    positions: LogPositions = Field(description="The log positions the submitted report reflects.")
    as_of: str
    submitted_at: str
    submitted_by: str
    submitted_by_name: str
    reason: str | None
    position: int = Field(description="The registry log position of the submission event.")


class OutOfDate(Exact):
    """The first change to one of the ministry's projects after the positions the submission reflects."""

    since: str
    service: str
    position: int


class MinistrySubmission(Exact):
    ministry: str
    ministry_name: str | None
    status: str = Field(description="`submitted`, `not_submitted` or `out_of_date` (submitted, changed since).")
    submission: SubmittedReport | None
    out_of_date: OutOfDate | None


class PeriodicSubmissions(ReportMeta, Page[MinistrySubmission]):
    """Every ministry's periodic report for a period: submitted (when, by whom), not, or out of date since."""

    period: str
    count: int
