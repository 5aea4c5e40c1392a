"""The registry's request and response models (the OpenAPI contract ministry systems generate clients from)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints, model_validator

from services.registry.contract import PUBLIC_FIELDS, SheetKind, SheetState, WithholdingReason
from services.registry.contract import CheckAnswer as CheckAnswer
from services.registry.domain import Stage
from services.registry.sheets import CheckSheet, Localized
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


ItemId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
SheetId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]


class SheetItemAnswer(StrictModel):
    item: ItemId
    answer: CheckAnswer
    note: Annotated[str, StringConstraints(max_length=2000)] = ""
    evidence: Annotated[str, StringConstraints(max_length=500)] = Field(
        default="", description="A reference to the evidence: a document number, a clause, a URL."
    )
    reason: Annotated[str, StringConstraints(max_length=2000)] | None = Field(
        default=None, description="Why the item does not apply (required with not_applicable)."
    )


class SheetAnswersIn(StrictModel):
    """Answers to one published check sheet version: every item that applies to the project now."""

    sheet_id: SheetId
    version: StrictInt = Field(ge=1, le=2**31 - 1)
    answers: list[SheetItemAnswer] = Field(min_length=1, max_length=500)


class ProcurementRecord(StrictModel):
    """Version 2: `procurement_sheet` (and, once the contract is settled, `contract_sheet`) answer published
    check sheet versions. Version 1 (`procurement_checks` and `contract_checks`, free-form) is still accepted and
    recorded as it was, but answers no published sheet, so it opens no gate."""

    vendor: ShortText
    contract_reference: ShortText
    procurement_sheet: SheetAnswersIn | None = Field(
        default=None, description="Answers to a published procurement check sheet version."
    )
    contract_sheet: SheetAnswersIn | None = Field(
        default=None, description="Answers to a published contract check sheet version."
    )
    procurement_checks: list[CheckItem] | None = Field(
        default=None, min_length=1, max_length=200, description="Version 1: free-form procurement answers."
    )
    contract_checks: list[CheckItem] | None = Field(
        default=None, min_length=1, max_length=200, description="Version 1: free-form contract answers."
    )
    reason: Reason | None = None

    @property
    def version_1(self) -> bool:
        return self.procurement_sheet is None

    @model_validator(mode="after")
    def _one_shape(self) -> ProcurementRecord:
        legacy = self.procurement_checks is not None or self.contract_checks is not None
        if self.procurement_sheet is None and self.contract_sheet is not None:
            raise ValueError("contract_sheet comes with procurement_sheet")
        if self.procurement_sheet is not None and legacy:
            raise ValueError("send procurement_sheet (version 2) or procurement_checks and contract_checks, not both")
        if self.procurement_sheet is None and (self.procurement_checks is None or self.contract_checks is None):
            raise ValueError("procurement_sheet is required (or, version 1, procurement_checks and contract_checks)")
        for sheet in ("procurement_checks", "contract_checks"):
            items = [check.item for check in getattr(self, sheet) or []]
            duplicates = sorted({item for item in items if items.count(item) > 1})
            if duplicates:
                raise ValueError(f"{sheet} answers {', '.join(duplicates)} more than once")
        return self

    def sheets(self) -> list[dict[str, Any]]:
        """The sheets answered, each with its kind (version 2)."""
        given = ((SheetKind.procurement, self.procurement_sheet), (SheetKind.contract, self.contract_sheet))
        return [{"kind": kind.value, **body.model_dump(mode="json")} for kind, body in given if body is not None]


class RiskAcceptance(StrictModel):
    reason: Reason = Field(description="Why the ministry accepts the risk of the item not being met.")


class ModelChangeNotice(StrictModel):
    """A vendor's notice that the model in use changes."""

    provider: ShortText
    model: ShortText
    version: ShortText = Field(description="The model version the change brings.")
    effective_date: date = Field(description="When the change takes effect.")
    changes: LongText = Field(description="What changes, in the vendor's words.")
    reason: Reason | None = None

    def notice(self) -> dict[str, str]:
        return {
            "provider": self.provider,
            "model": self.model,
            "model_version": self.version,
            "effective_date": self.effective_date.isoformat(),
            "changes": self.changes,
        }


class CheckSheetSummary(BaseModel):
    sheet_id: str
    version: int
    kind: SheetKind
    title: Localized
    content_hash: str
    published_at: str


class CheckSheetOut(BaseModel):
    sheet_id: str
    version: int
    kind: SheetKind
    content_hash: str
    content: CheckSheet = Field(description="The sheet as published (its `content_hash` is over these bytes).")


class CheckSheetList(Page[CheckSheetSummary]):
    """Published check sheet versions by id and version."""


class ItemAnswerOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: str
    answer: CheckAnswer
    note: str
    evidence: str
    reason: str | None
    risk_accepted: bool = Field(description="The designated CAIO accepted the risk of this not_met answer.")


class SheetStatusOut(BaseModel):
    """One sheet, for the project as it stands now: the items that apply and are not answered (`missing`), and
    those answered not_met without the designated CAIO's risk acceptance (`unaccepted`)."""

    kind: SheetKind
    sheet_id: str | None = Field(description="The sheet measured against (the latest published, if none answered).")
    version: int | None
    state: SheetState
    missing: list[str]
    unaccepted: list[str]
    answers: list[ItemAnswerOut]


class ProjectCheckSheets(BaseModel):
    project_id: str
    version: int
    sheets: list[SheetStatusOut]


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
