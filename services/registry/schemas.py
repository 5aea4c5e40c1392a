"""The registry's request and response models (the OpenAPI contract ministry systems generate clients from)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints, model_validator

from services.registry.contract import PUBLIC_FIELDS, WithholdingReason
from services.registry.domain import Stage
from shared.pagination import Page
from shared.positions import MAX_POSITION
from shared.schemas import LogEntryOut, LongText, MinistryCode, OfficerId, Reason, ShortText, StrictModel, Timestamp


class Users(StrEnum):
    staff_only = "staff_only"
    public = "public"


class Deployment(StrEnum):
    saas_api = "saas_api"
    on_premises = "on_premises"
    fine_tuned = "fine_tuned"


class Confidentiality(StrEnum):
    public = "public"
    internal = "internal"
    confidential = "confidential"
    highly_confidential = "highly_confidential"


class NatureOfWork(StrEnum):
    internal_support = "internal_support"
    public_information = "public_information"
    administrative_decisions = "administrative_decisions"


class HumanReview(StrEnum):
    every_output = "every_output"
    sampled = "sampled"
    none = "none"


class CheckAnswer(StrEnum):
    met = "met"
    not_met = "not_met"
    not_applicable = "not_applicable"


class ModelUsed(StrictModel):
    provider: ShortText
    model: ShortText
    deployment: Deployment


class DataHandled(StrictModel):
    confidentiality: Confidentiality
    personal_data: StrictBool  # JSON true/false only: "no" or 0 must not pass for false


class ProjectFields(StrictModel):
    """Fields a planner can set at registration and amend later."""

    title: ShortText
    objectives: LongText
    description: LongText
    business_area: ShortText
    users: Users
    models: list[ModelUsed] = Field(min_length=1, max_length=20)
    data: DataHandled
    expected_users: StrictInt = Field(ge=0, le=100_000_000)
    owner: ShortText
    nature_of_work: NatureOfWork | None = Field(
        default=None, description="Internal support, information to the public, or administrative decisions."
    )
    human_review: HumanReview | None = Field(
        default=None, description="Whether staff judge outputs before they are used."
    )


class ProjectRegistration(ProjectFields):
    ministry: MinistryCode


class ProjectAmendment(StrictModel):
    """Only the fields sent are changed; `reason` is required and recorded in the event."""

    reason: Reason
    title: ShortText | None = None
    objectives: LongText | None = None
    description: LongText | None = None
    business_area: ShortText | None = None
    users: Users | None = None
    models: list[ModelUsed] | None = Field(default=None, min_length=1, max_length=20)
    data: DataHandled | None = None
    expected_users: StrictInt | None = Field(default=None, ge=0, le=100_000_000)
    owner: ShortText | None = None
    nature_of_work: NatureOfWork | None = None
    human_review: HumanReview | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"reason"}, exclude_none=True)

    @model_validator(mode="after")
    def _something_to_change(self) -> ProjectAmendment:
        if not self.changes():
            raise ValueError("an amendment must set at least one project field besides reason")
        return self


class TransitionRequest(StrictModel):
    to: Stage
    reason: Reason


class CheckItem(StrictModel):
    item: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    answer: CheckAnswer
    note: Annotated[str, StringConstraints(max_length=2000)] = ""


class ProcurementRecord(StrictModel):
    vendor: ShortText
    contract_reference: ShortText
    procurement_checks: list[CheckItem] = Field(
        min_length=1, max_length=200, description="Answers to the procurement check sheet."
    )
    contract_checks: list[CheckItem] = Field(
        min_length=1, max_length=200, description="Answers to the contract check sheet."
    )
    reason: Reason | None = None

    @model_validator(mode="after")
    def _unique_items(self) -> ProcurementRecord:
        for sheet in ("procurement_checks", "contract_checks"):
            items = [check.item for check in getattr(self, sheet)]
            duplicates = sorted({item for item in items if items.count(item) > 1})
            if duplicates:
                raise ValueError(f"{sheet} answers {', '.join(duplicates)} more than once")
        return self


class MinistryCreate(StrictModel):
    code: MinistryCode
    name: ShortText


class CaioDesignation(StrictModel):
    officer_id: OfficerId
    name: ShortText
    reason: Reason


class CaioOut(BaseModel):
    officer_id: str
    name: str


class MinistryOut(BaseModel):
    code: str
    name: str
    caio: CaioOut | None
    version: int


class CaioHistoryEntry(BaseModel):
    officer_id: str
    name: str
    designated_at: str
    designated_by: str
    reason: str | None
    ended_at: str | None
    ended_by: str | None
    end_reason: str | None
    ended_how: str | None


class ModelInUse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str
    model: str
    deployment: Deployment


class DataDescription(BaseModel):
    model_config = ConfigDict(extra="forbid")

    confidentiality: Confidentiality
    personal_data: bool


class ProjectDetails(BaseModel):
    """What the planner registered and amended (unknown keys are an error: the answer must say everything)."""

    model_config = ConfigDict(extra="forbid")

    title: str
    objectives: str
    description: str
    business_area: str
    users: Users
    models: list[ModelInUse]
    data: DataDescription
    expected_users: int
    owner: str
    nature_of_work: NatureOfWork | None = None
    human_review: HumanReview | None = None


class CheckSheetAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: str
    answer: CheckAnswer
    note: str = ""


class Procurement(BaseModel):
    """The vendor, the contract and the answers to both check sheets, as last recorded."""

    model_config = ConfigDict(extra="forbid")

    vendor: str
    contract_reference: str
    procurement_checks: list[CheckSheetAnswer]
    contract_checks: list[CheckSheetAnswer]


class ProjectOut(BaseModel):
    id: str
    version: int
    ministry: str
    stage: Stage
    allowed_transitions: list[Stage]
    details: ProjectDetails
    procurement: Procurement | None
    registered_at: str
    updated_at: str
    publications: int = Field(default=0, description="How many times the public record was published.")


#: The fields of a published record (tier 1 and tier 2); mandatory ones cannot be withheld.
PublicField = StrEnum("PublicField", {name: name for name in PUBLIC_FIELDS})  # type: ignore[misc]


class WithheldField(StrictModel):
    field: PublicField  # type: ignore[valid-type]
    reason: WithholdingReason
    text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = Field(
        default=None, description="Required when the reason is other."
    )


class PublicationRequest(StrictModel):
    """Publish the public record as it stands now; each field in ``withheld`` is shown with its reason only."""

    withheld: list[WithheldField] = Field(default_factory=list, max_length=len(PUBLIC_FIELDS))
    reason: Reason | None = None


class ProjectSummary(BaseModel):
    id: str
    ministry: str
    title: str
    stage: Stage
    version: int
    updated_at: str


class ProjectList(Page[ProjectSummary]):
    """Projects in registration order."""


class MinistryList(Page[MinistryOut]):
    """Ministries and agencies by code."""


class CaioHistory(Page[CaioHistoryEntry]):
    """A ministry's CAIO designations, oldest first."""


class ProjectEvents(Page[LogEntryOut]):
    """A project's events in log order."""


# -- usage rules and periodic-report submissions (issue 16, items 7 and 8) --------------------------------------

UsageRulesText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100_000)]
ContentHash = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]


class UsageRulesIssue(StrictModel):
    """A new version of the ministry's rules for staff use of generative AI (利活用ルール): the text itself, or
    a reference to the published document with its sha256; the date from which it is in force (from the start
    of that day in Japan)."""

    title: ShortText
    text: UsageRulesText | None = None
    reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] | None = None
    reference_hash: ContentHash | None = Field(
        default=None, description="`sha256:<hex>` of the referenced document's bytes (required with `reference`)."
    )
    effective_from: date = Field(description="The date the version takes effect (start of that day, JST).")
    reason: Reason


class UsageRulesOut(BaseModel):
    """One version of a ministry's usage rules, as the registry recorded it."""

    ministry: str
    version: int
    title: str
    text: str | None
    reference: str | None
    content_hash: str = Field(description="`sha256:<hex>` of the text, or the referenced document's hash.")
    effective_from: date
    issued_at: str
    issued_by: str
    issued_by_name: str
    reason: str | None


class UsageRulesList(Page[UsageRulesOut]):
    """Every version of a ministry's usage rules, oldest first."""


class SubmittedPositions(StrictModel):
    registry: StrictInt = Field(ge=0, le=MAX_POSITION)
    risk: StrictInt = Field(ge=0, le=MAX_POSITION)


class PeriodicReportSubmission(StrictModel):
    """What the CAIO submits: the report reporting served (`GET /v1/ministries/{code}/periodic-report`), named by
    its `content_hash`, `positions` and `as_of`, so exactly that report is frozen."""

    content_hash: ContentHash
    positions: SubmittedPositions
    as_of: Timestamp
    reason: Reason


class PeriodicSubmissionOut(BaseModel):
    """A periodic report as submitted."""

    ministry: str
    period: str
    content_hash: str
    positions: dict[str, int]
    as_of: str
    submitted_at: str
    submitted_by: str
    submitted_by_name: str
    reason: str | None
