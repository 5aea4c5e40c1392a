"""The registry's published contract: the events of its log and the vocabulary other services may rely on.

Other services import this module and nothing else of the registry (import-linter enforces it); it imports
nothing of the registry either, so it can be read, exported (``docs/events/registry.json``) and versioned
on its own.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import Any, Protocol, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from shared.contracts import Contract, EventPayload, EventType

MINISTRY_NAMESPACE = uuid5(NAMESPACE_URL, "urn:aigov:ministry")
CHECK_SHEET_NAMESPACE = uuid5(NAMESPACE_URL, "urn:aigov:check-sheet")

#: Changes to these project fields alter the risk picture (GUIDELINE.md): an amendment touching any of them
#: is ``material`` and makes a decided classification stale.
MATERIAL_FIELDS = frozenset({"users", "nature_of_work", "business_area", "data", "human_review", "models"})


#: A periodic report covers a half-year: ``2026H1`` (January to June) or ``2026H2`` (July to December).
PERIOD_PATTERN = r"^20\d\dH[12]$"
PERIOD = re.compile(PERIOD_PATTERN)
#: Content hashes are written ``sha256:<64 lowercase hex digits>``.
CONTENT_HASH_PATTERN = r"^sha256:[0-9a-f]{64}$"
#: A ministry's usage rules take effect at the start of their effective date in Japan (JST, UTC+9, no DST).
JAPAN = timezone(timedelta(hours=9), "JST")


def ministry_id(code: str) -> UUID:
    """A ministry's aggregate id is derived from its code, so a code is registered once."""
    return uuid5(MINISTRY_NAMESPACE, code)


def check_sheet_version_id(sheet_id: str, version: int) -> UUID:
    """A check sheet version's id derives from (sheet id, version), so a version is published once."""
    return uuid5(CHECK_SHEET_NAMESPACE, f"{sheet_id}@{version}")


def material_fields(changed: set[str] | frozenset[str]) -> list[str]:
    """The changed fields that make an amendment material, sorted."""
    return sorted(MATERIAL_FIELDS & changed)


#: The lifecycle stages of a project (GUIDELINE.md). No docstring: it would change the OpenAPI documents.
class Stage(StrEnum):
    planning = "planning"
    procurement = "procurement"
    development = "development"
    operation = "operation"
    suspended = "suspended"
    retired = "retired"


#: The two check sheets of the guideline: what the specification requires, and what the contract settles.
class SheetKind(StrEnum):
    procurement = "procurement"
    contract = "contract"


#: The answer to one check-sheet item.
class CheckAnswer(StrEnum):
    met = "met"
    not_met = "not_met"
    not_applicable = "not_applicable"


#: When a check-sheet item applies (all of an item's conditions must hold; none: every project).
class Applicability(StrEnum):
    high_risk = "high_risk"
    saas = "saas"
    on_premises = "on_premises"
    fine_tuned = "fine_tuned"
    personal_data = "personal_data"


#: Why answered items of a sheet were reopened, or its status changed without a new answer.
class ReopenCause(StrEnum):
    amendment = "amendment"
    classification = "classification"
    model_change = "model_change"


#: Where a project's answers to one sheet stand, for the items that apply to it now.
class SheetState(StrEnum):
    not_answered = "not_answered"
    incomplete = "incomplete"
    complete = "complete"


class SheetStatus(EventPayload):
    """One sheet's status for a project as the registry recorded it: the items that apply and are not answered
    (``missing``), and those answered ``not_met`` without the designated CAIO's risk acceptance (``unaccepted``)."""

    kind: SheetKind
    sheet_id: str | None
    version: int | None
    state: SheetState
    missing: list[str]
    unaccepted: list[str]


class ItemAnswer(EventPayload):
    item: str
    answer: CheckAnswer
    note: str
    evidence: str
    reason: str | None


class SheetAnswers(EventPayload):
    """A project's answers to one check sheet version, pinned by its content hash."""

    kind: SheetKind
    sheet_id: str
    version: int
    content_hash: str
    answers: list[ItemAnswer]


class Created(EventPayload):
    """The first event of an aggregate also names the aggregate's class (the library's ``originator_topic``)."""

    originator_topic: str


class MinistryEstablished(Created):
    code: str
    name: str


class ChiefAIOfficerDesignated(EventPayload):
    officer_id: str
    name: str
    previous_officer_id: str | None


class ChiefAIOfficerRevoked(EventPayload):
    officer_id: str


class UsageRulesIssued(EventPayload):
    """A version of the ministry's rules for staff use of generative AI (利活用ルール), issued by its CAIO."""

    version: int
    title: str
    text: str | None
    reference: str | None
    content_hash: str
    effective_from: date


class PeriodicReportSubmitted(EventPayload):
    """The ministry's periodic report for a half-year, as reporting computed it at the given log positions and
    time: its content hash (sha256 of the report's canonical JSON bytes) freezes what was submitted."""

    period: str
    content_hash: str
    registry_position: int
    risk_position: int
    as_of: datetime


class ProjectRegistered(Created):
    ministry: str
    details: dict[str, Any]


class ProjectAmended(EventPayload):
    changes: dict[str, Any]
    previous: dict[str, Any]
    material: bool
    material_fields: list[str]


class ProjectStageChanged(EventPayload):
    from_stage: Stage
    to_stage: Stage


class ProcurementRecorded(EventPayload):
    record: dict[str, Any]


class CheckSheetPublished(Created):
    sheet_id: str
    version: int
    kind: SheetKind
    content_hash: str
    content: dict[str, Any]


class CheckSheetsAnswered(EventPayload):
    vendor: str
    contract_reference: str
    sheets: list[SheetAnswers]
    status: list[SheetStatus]


class CheckItemRiskAccepted(EventPayload):
    kind: SheetKind
    sheet_id: str
    version: int
    item: str
    status: list[SheetStatus]


class CheckSheetReopened(EventPayload):
    kind: SheetKind
    sheet_id: str
    version: int
    items: list[str]
    cause: ReopenCause
    status: list[SheetStatus]


class CheckSheetStatusChanged(EventPayload):
    cause: ReopenCause
    status: list[SheetStatus]


class ModelChangeNoticed(EventPayload):
    provider: str
    model: str
    model_version: str
    effective_date: str
    changes: str


# -- the public register (issue 16, item 4) ----------------------------------------------------------------


class WithholdingReason(StrEnum):
    """Why a field of a published record is withheld (the fixed list; ``other`` needs a text)."""

    security = "security"
    personal_information = "personal_information"
    commercial_confidentiality = "commercial_confidentiality"
    law_enforcement = "law_enforcement"
    other = "other"


#: The fields of a published record, in the order the public pages show them: tier 1 (plain language), then
#: tier 2 (detail). Each maps to whether it is mandatory: a mandatory field can be neither missing nor withheld.
PUBLIC_FIELDS: dict[str, bool] = {
    "name": True,
    "summary": True,
    "ministry": True,
    "stage": True,
    "contact": True,
    "human_review": True,
    "description": False,
    "business_area": False,
    "nature_of_work": False,
    "users": False,
    "data": False,
    "models": False,
    "vendor": False,
    "chief_ai_officer": False,
    "risk_classification": False,
    "classification_current": False,
    "board_advice_recorded": False,
    "decision": False,
}
TIER_1_FIELDS = ("name", "summary", "ministry", "stage", "contact")
MANDATORY_PUBLIC_FIELDS = tuple(name for name, mandatory in PUBLIC_FIELDS.items() if mandatory)


class Withholding(EventPayload):
    """One withheld field of a published record and why; ``text`` is required for ``other``."""

    field: str
    reason: WithholdingReason
    text: str | None = None


class ProjectPublished(EventPayload):
    """The designated CAIO published the project's public record (tier 1 and tier 2) as it stood.

    ``record`` maps every field of ``PUBLIC_FIELDS`` to its published value, or, for a withheld field, to
    ``{"withheld": true, "reason": …, "text": …}``: the withheld value itself is never in the event (the log is
    read by auditors and exported; the value stays where it always was, in the project's own events)."""

    publication: int
    record: dict[str, Any]
    withheld: list[Withholding]


def withheld_marker(withholding: Withholding) -> dict[str, Any]:
    """What a withheld field shows instead of its value."""
    return {"withheld": True, "reason": withholding.reason.value, "text": withholding.text}


def is_withheld(value: Any) -> bool:
    return isinstance(value, dict) and value.get("withheld") is True


def publication_out_of_date(published_version: int | None, project_version: int) -> bool:
    """A published record is out of date when the project recorded any event after its last publication (the
    publication is itself the project's event at ``published_version``). Never published: not out of date."""
    return published_version is not None and project_version > published_version


REGISTRY = Contract(
    "registry",
    [
        EventType("MinistryEstablished", MinistryEstablished, description="A ministry or agency was registered."),
        EventType("ChiefAIOfficerDesignated", ChiefAIOfficerDesignated, description="A CAIO was designated."),
        EventType("ChiefAIOfficerRevoked", ChiefAIOfficerRevoked, description="A CAIO designation was revoked."),
        EventType("UsageRulesIssued", UsageRulesIssued, description="A version of the ministry's usage rules."),
        EventType(
            "PeriodicReportSubmitted", PeriodicReportSubmitted, description="The CAIO submitted a periodic report."
        ),
        EventType("ProjectRegistered", ProjectRegistered, description="A generative-AI project was registered."),
        EventType("ProjectAmended", ProjectAmended, description="Project fields changed (material or not)."),
        EventType("ProjectStageChanged", ProjectStageChanged, description="The project moved along its lifecycle."),
        EventType(
            "ProcurementRecorded", ProcurementRecorded, description="Vendor, contract and free-form check answers."
        ),
        EventType("CheckSheetPublished", CheckSheetPublished, description="A check sheet version was published."),
        EventType(
            "CheckSheetsAnswered",
            CheckSheetsAnswered,
            description="Vendor, contract and answers to pinned check sheet versions, with each sheet's status.",
        ),
        EventType(
            "CheckItemRiskAccepted",
            CheckItemRiskAccepted,
            description="The designated CAIO accepted the risk of an item answered not_met.",
        ),
        EventType(
            "CheckSheetReopened",
            CheckSheetReopened,
            description="Items of an answered sheet must be answered again (they newly apply, or a model changed).",
        ),
        EventType(
            "CheckSheetStatusChanged",
            CheckSheetStatusChanged,
            description="A change of the project made fewer items of its answered sheets apply; their status now.",
        ),
        EventType(
            "ModelChangeNoticed", ModelChangeNoticed, description="A vendor's notice of a change of the model in use."
        ),
        EventType(
            "ProjectPublished",
            ProjectPublished,
            description="The CAIO published the public record, some fields withheld.",
        ),
    ],
    description="Ministries, CAIO designations and generative-AI projects with their lifecycle.",
)


def text_hash(text: str) -> str:
    """The content hash of a text: ``sha256:`` and the hex digest of its UTF-8 bytes."""
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def takes_effect_at(effective_from: date) -> datetime:
    """The moment usage rules with this effective date take effect: the start of that day in Japan."""
    return datetime.combine(effective_from, time(0, 0), tzinfo=JAPAN)


class HasEffectiveDate(Protocol):
    @property
    def version(self) -> int: ...

    @property
    def effective_from(self) -> date: ...


R = TypeVar("R", bound=HasEffectiveDate)


def in_force(versions: Iterable[R], at: datetime) -> R | None:
    """The version of a ministry's usage rules in force at ``at``: of the versions issued, the one with the latest
    effective date that had begun by then (the later version on the same date). None: no version was in force.

    A later version supersedes an earlier one from its own effective date, never before it, so on each side of
    that date a different version is in force (the one home of this rule: the registry, reporting's reports and
    the public register all ask it)."""
    begun = [version for version in versions if takes_effect_at(version.effective_from) <= at]
    return max(begun, key=lambda version: (version.effective_from, version.version), default=None)
