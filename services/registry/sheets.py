"""The guideline's check sheets as versioned data: the sheet schema, when an item applies, and a project's status.

Pure Python (Pydantic for validation): no HTTP, no SQL. A project's answers are pinned to a published sheet
version (its content hash), so answers recorded years ago are read against exactly the items they answered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from services.registry.contract import Applicability, CheckAnswer, SheetKind, SheetState, SheetStatus
from shared.errors import FieldProblem, InvalidInputs
from shared.i18n import N_

SHEET_DIRECTORY = Path(__file__).parent / "checksheets"
MAX_VERSION = 2**31 - 1
MODEL_CHANGE = "model_change"

#: The deployment each deployment condition names (``ModelUsed.deployment`` in the registry's project fields).
DEPLOYMENT_CONDITIONS: dict[Applicability, str] = {
    Applicability.saas: "saas_api",
    Applicability.on_premises: "on_premises",
    Applicability.fine_tuned: "fine_tuned",
}


class CheckSheetInvalid(InvalidInputs):
    """A check sheet document failed validation; each problem names its path in the document."""

    def __init__(self, problems: list[FieldProblem]):
        super().__init__(N_("The check sheet is not valid."), problems)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Localized(Strict):
    """A text in English and Japanese."""

    en: str = Field(min_length=1, max_length=2000)
    ja: str = Field(min_length=1, max_length=2000)


class Section(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]{1,64}$")
    title: Localized


class Item(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    section: str = Field(pattern=r"^[a-z0-9_]{1,64}$")
    title: Localized
    applies_when: list[Applicability] = Field(
        default_factory=list, description="Conditions that must all hold for the item to apply (none: always)."
    )
    reopened_by: list[str] = Field(
        default_factory=list, description="Events that reopen the item once answered (`model_change`)."
    )

    @model_validator(mode="after")
    def _known_reopeners(self) -> Item:
        unknown = sorted(set(self.reopened_by) - {MODEL_CHANGE})
        if unknown:
            raise ValueError(f"reopened_by names unknown events: {', '.join(unknown)} (known: {MODEL_CHANGE})")
        return self


class CheckSheet(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    version: int = Field(ge=1, le=MAX_VERSION)
    kind: SheetKind
    title: Localized
    description: Localized | None = None
    sections: list[Section] = Field(min_length=1, max_length=100)
    items: list[Item] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _consistent(self) -> CheckSheet:
        for what, ids in (("section ids", [s.id for s in self.sections]), ("item ids", [i.id for i in self.items])):
            duplicates = sorted({value for value in ids if ids.count(value) > 1})
            if duplicates:
                raise ValueError(f"{what} must be unique; repeated: {', '.join(duplicates)}")
        sections = {section.id for section in self.sections}
        strays = sorted({item.section for item in self.items} - sections)
        if strays:
            raise ValueError(f"items name sections the sheet does not have: {', '.join(strays)}")
        return self

    def item(self, item_id: str) -> Item | None:
        return next((item for item in self.items if item.id == item_id), None)

    def label(self, item_id: str) -> str:
        """How a refusal names an item: its sheet, version, id and English title."""
        item = self.item(item_id)
        title = f": {item.title.en}" if item is not None else ""
        return f"{self.kind.value} sheet {self.id} v{self.version}, item {item_id}{title}"


def parse(content: Mapping[str, Any]) -> CheckSheet:
    try:
        return CheckSheet.model_validate(content)
    except ValidationError as error:
        raise CheckSheetInvalid(
            [
                FieldProblem(".".join(str(part) for part in problem["loc"]), problem["msg"], problem["type"])
                for problem in error.errors()
            ]
        ) from None


def dump(sheet: CheckSheet) -> dict[str, Any]:
    return sheet.model_dump(mode="json")


def content_hash(sheet: CheckSheet) -> str:
    """sha256 of the canonical JSON of the validated sheet: what every answer set is pinned to."""
    canonical = json.dumps(dump(sheet), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def shipped_contents() -> list[dict[str, Any]]:
    """The check sheets shipped with this release, in file-name order."""
    return [
        yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(SHEET_DIRECTORY.glob("*.v[0-9]*.yaml"))
    ]


def load_shipped(sheet_id: str, version: int) -> CheckSheet:
    for content in shipped_contents():
        if content.get("id") == sheet_id and content.get("version") == version:
            return parse(content)
    raise KeyError(f"no shipped check sheet {sheet_id} version {version}")


# -- applicability and status -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectFacts:
    """What decides which items apply to a project as it stands now: its classification (as the registry learned
    it from the risk log), whether it handles personal data, and how its models are deployed."""

    high_risk: bool
    personal_data: bool
    deployments: frozenset[str]

    @classmethod
    def of(cls, details: Mapping[str, Any], classification: str | None) -> ProjectFacts:
        models: Iterable[Mapping[str, Any]] = details.get("models") or []
        return cls(
            high_risk=classification == "high",
            personal_data=bool((details.get("data") or {}).get("personal_data")),
            deployments=frozenset(str(model.get("deployment")) for model in models),
        )

    def holds(self, condition: Applicability) -> bool:
        if condition == Applicability.high_risk:
            return self.high_risk
        if condition == Applicability.personal_data:
            return self.personal_data
        return DEPLOYMENT_CONDITIONS[condition] in self.deployments


def applies(item: Item, facts: ProjectFacts) -> bool:
    return all(facts.holds(condition) for condition in item.applies_when)


def applicable_ids(sheet: CheckSheet, facts: ProjectFacts) -> list[str]:
    return [item.id for item in sheet.items if applies(item, facts)]


@dataclass(frozen=True)
class Answered:
    """A project's answers to one sheet version: item id → answer (``answer``, ``note``, ``evidence``,
    ``reason``), and the items answered not_met whose risk the designated CAIO accepted."""

    answers: Mapping[str, Mapping[str, Any]]
    accepted: frozenset[str]


def status(kind: SheetKind, sheet: CheckSheet | None, answered: Answered | None, facts: ProjectFacts) -> SheetStatus:
    """The sheet's status for the items that apply to the project now (none answered: ``not_answered``)."""
    if sheet is None or answered is None:
        return SheetStatus(
            kind=kind, sheet_id=None, version=None, state=SheetState.not_answered, missing=[], unaccepted=[]
        )
    applicable = applicable_ids(sheet, facts)
    missing = [item for item in applicable if item not in answered.answers]
    unaccepted = [
        item
        for item in applicable
        if item in answered.answers
        and answered.answers[item]["answer"] == CheckAnswer.not_met
        and item not in answered.accepted
    ]
    return SheetStatus(
        kind=kind,
        sheet_id=sheet.id,
        version=sheet.version,
        state=SheetState.incomplete if missing else SheetState.complete,
        missing=missing,
        unaccepted=unaccepted,
    )


def answer_problems(sheet: CheckSheet, answers: list[Mapping[str, Any]], path: str) -> list[FieldProblem]:
    """What is wrong with a set of answers to ``sheet`` besides completeness: unknown or repeated items, and
    ``not_applicable`` without a reason."""
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    for index, answer in enumerate(answers):
        at = f"{path}.answers[{index}]"
        item = answer["item"]
        if sheet.item(item) is None:
            message = f"{sheet.id} v{sheet.version} has no item {item}"
            problems.append(FieldProblem(f"{at}.item", message, "unknown_item"))
        elif item in seen:
            problems.append(FieldProblem(f"{at}.item", f"item {item} is answered more than once", "duplicate_item"))
        seen.add(item)
        if answer["answer"] == CheckAnswer.not_applicable and not (answer.get("reason") or "").strip():
            message = f"not_applicable for {item} needs a reason"
            problems.append(FieldProblem(f"{at}.reason", message, "reason_required"))
    return problems


def reopened_by_model_change(sheet: CheckSheet) -> list[str]:
    return [item.id for item in sheet.items if MODEL_CHANGE in item.reopened_by]
