"""The risk evaluation as versioned data: the ruleset schema, and the screening it defines.

Pure Python (Pydantic for validation): no HTTP, no SQL. The same ruleset and answers always give the same
result, so an assessment replayed years later under its pinned ruleset version screens exactly as it did.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from shared.errors import FieldProblem, Incomplete, InvalidInput, InvalidInputs
from shared.i18n import Msg

RULESET_DIRECTORY = Path(__file__).parent / "rulesets"


class AnswerError(InvalidInput):
    """An answer names a question or choice the pinned ruleset does not have."""

    def __init__(self, message: str, path: str):
        super().__init__(message, path, "invalid_answer")


class RulesetInvalid(InvalidInputs):
    """A ruleset document failed validation; ``errors`` name each field at fault (paths in the document)."""

    def __init__(self, errors: list[dict[str, Any]]):
        problems = [FieldProblem(error["field"], error["message"], error["type"]) for error in errors]
        super().__init__("The ruleset is not valid.", problems)
        self.errors = errors


#: Bounds that fit both databases' integers (PostgreSQL INTEGER is 32-bit) and keep every score a finite float.
MAX_VERSION = 2**31 - 1
MAX_POINTS = 1_000_000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Choice(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]{1,64}$")
    label_en: str = Field(min_length=1)
    label_ja: str = Field(min_length=1)
    points: int = Field(ge=0, le=MAX_POINTS, default=0)
    high: bool = Field(default=False, description="Choosing it puts the viewpoint on the high side.")


class Question(Strict):
    id: str = Field(pattern=r"^[a-z0-9_.]{1,64}$")
    label_en: str = Field(min_length=1)
    label_ja: str = Field(min_length=1)
    choices: list[Choice] = Field(min_length=2)

    @model_validator(mode="after")
    def _unique_choices(self) -> Question:
        _require_unique([choice.id for choice in self.choices], f"choices of {self.id}")
        return self

    def choice(self, choice_id: str) -> Choice | None:
        return next((choice for choice in self.choices if choice.id == choice_id), None)

    @property
    def max_points(self) -> int:
        return max(choice.points for choice in self.choices)


class Viewpoint(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]{1,64}$")
    label_en: str = Field(min_length=1)
    label_ja: str = Field(min_length=1)
    questions: list[Question] = Field(min_length=1)


class MitigationChoice(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]{1,64}$")
    label_en: str = Field(min_length=1)
    label_ja: str = Field(min_length=1)
    credit: int = Field(ge=0, le=MAX_POINTS)


class MitigationQuestion(Strict):
    id: str = Field(pattern=r"^[a-z0-9_.]{1,64}$")
    label_en: str = Field(min_length=1)
    label_ja: str = Field(min_length=1)
    choices: list[MitigationChoice] = Field(min_length=2)

    def choice(self, choice_id: str) -> MitigationChoice | None:
        return next((choice for choice in self.choices if choice.id == choice_id), None)


class Mitigation(Strict):
    questions: list[MitigationQuestion] = Field(default_factory=list)
    reduction_threshold: float = Field(
        default=0.8, gt=0, le=1, description="Share of the mitigation maximum that earns the reduction."
    )
    reduction: float = Field(
        default=0.15, ge=0, lt=1, description="Share of the raw score removed when the threshold is reached."
    )


class Level(Strict):
    name: str = Field(min_length=1, max_length=16)
    up_to: float = Field(gt=0, le=1, description="Upper bound (inclusive) of the score as a share of the maximum.")


class ScreeningRule(Strict):
    any_high_viewpoint: bool = Field(description="A viewpoint on the high side makes the project likely high risk.")
    high_levels: list[str] = Field(default_factory=list, description="Levels that make the project likely high risk.")


class Ruleset(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    version: int = Field(ge=1, le=MAX_VERSION)
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    classification_validity_months: int = Field(default=12, ge=1, le=120)
    viewpoints: list[Viewpoint] = Field(min_length=1)
    mitigation: Mitigation = Field(default_factory=Mitigation)
    levels: list[Level] = Field(min_length=1)
    screening: ScreeningRule

    @field_validator("viewpoints")
    @classmethod
    def _unique_viewpoints(cls, viewpoints: list[Viewpoint]) -> list[Viewpoint]:
        _require_unique([viewpoint.id for viewpoint in viewpoints], "viewpoint ids")
        _require_unique([question.id for viewpoint in viewpoints for question in viewpoint.questions], "question ids")
        return viewpoints

    @field_validator("mitigation")
    @classmethod
    def _unique_mitigation_questions(cls, mitigation: Mitigation, info: ValidationInfo) -> Mitigation:
        questions = [question.id for viewpoint in info.data.get("viewpoints", []) for question in viewpoint.questions]
        _require_unique(
            questions + [question.id for question in mitigation.questions], "question ids (viewpoints and mitigation)"
        )
        return mitigation

    @field_validator("levels")
    @classmethod
    def _increasing_levels(cls, levels: list[Level]) -> list[Level]:
        bounds = [level.up_to for level in levels]
        if bounds != sorted(bounds) or len(set(bounds)) != len(bounds) or bounds[-1] != 1:
            raise ValueError("levels must have strictly increasing up_to bounds ending at 1")
        _require_unique([level.name for level in levels], "level names")
        return levels

    @field_validator("screening")
    @classmethod
    def _known_high_levels(cls, screening: ScreeningRule, info: ValidationInfo) -> ScreeningRule:
        unknown = set(screening.high_levels) - {level.name for level in info.data.get("levels", [])}
        if unknown:
            raise ValueError(f"high_levels names unknown levels: {', '.join(sorted(unknown))}")
        return screening

    def questions(self) -> list[Question]:
        return [question for viewpoint in self.viewpoints for question in viewpoint.questions]

    def question(self, question_id: str) -> Question | None:
        return next((question for question in self.questions() if question.id == question_id), None)


def _require_unique(ids: list[str], what: str) -> None:
    duplicates = sorted({item for item in ids if ids.count(item) > 1})
    if duplicates:
        raise ValueError(f"{what} must be unique; repeated: {', '.join(duplicates)}")


# -- loading and identity ------------------------------------------------------------------------------


def parse(content: dict[str, Any]) -> Ruleset:
    try:
        return Ruleset.model_validate(content)
    except ValidationError as error:
        raise RulesetInvalid(
            [
                {
                    "field": ".".join(str(part) for part in item["loc"]) or "(ruleset)",
                    "message": item["msg"],
                    "type": item["type"],
                }
                for item in error.errors()
            ]
        ) from error


def dump(ruleset: Ruleset) -> dict[str, Any]:
    return ruleset.model_dump(mode="json")


def content_hash(ruleset: Ruleset) -> str:
    """sha256 of the canonical JSON of the validated ruleset: what every assessment is pinned to."""
    canonical = json.dumps(dump(ruleset), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def shipped_contents() -> list[dict[str, Any]]:
    """The ruleset documents shipped with this release, in file-name order."""
    return [
        yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(RULESET_DIRECTORY.glob("*.v[0-9]*.yaml"))
    ]


def load_shipped(ruleset_id: str, version: int) -> Ruleset:
    for content in shipped_contents():
        if content.get("id") == ruleset_id and content.get("version") == version:
            return parse(content)
    raise KeyError(f"no shipped ruleset {ruleset_id} version {version}")


# -- answers ----------------------------------------------------------------------------------------------


def check_answers(ruleset: Ruleset, answers: dict[str, dict[str, str]], mitigations: dict[str, dict[str, str]]) -> None:
    """Every answer names a question of the ruleset and one of its choices."""
    for question_id, answer in answers.items():
        question = ruleset.question(question_id)
        if question is None:
            raise AnswerError(
                Msg(
                    "Ruleset {ruleset_id} v{version} has no question {question_id}.",
                    ruleset_id=ruleset.id,
                    version=ruleset.version,
                    question_id=question_id,
                ),
                f"answers.{question_id}",
            )
        if question.choice(answer["choice"]) is None:
            raise AnswerError(
                Msg(
                    "Question {question_id} has no choice {choice}; choose one of {choices}.",
                    question_id=question_id,
                    choice=answer["choice"],
                    choices=", ".join(c.id for c in question.choices),
                ),
                f"answers.{question_id}.choice",
            )
    by_id = {question.id: question for question in ruleset.mitigation.questions}
    for question_id, answer in mitigations.items():
        question = by_id.get(question_id)
        if question is None:
            raise AnswerError(
                Msg(
                    "Ruleset {ruleset_id} v{version} has no mitigation question {question_id}.",
                    ruleset_id=ruleset.id,
                    version=ruleset.version,
                    question_id=question_id,
                ),
                f"mitigations.{question_id}",
            )
        if question.choice(answer["choice"]) is None:
            raise AnswerError(
                Msg(
                    "Mitigation question {question_id} has no choice {choice}.",
                    question_id=question_id,
                    choice=answer["choice"],
                ),
                f"mitigations.{question_id}.choice",
            )


def missing_questions(ruleset: Ruleset, answers: dict[str, Any]) -> list[str]:
    return [question.id for question in ruleset.questions() if question.id not in answers]


def require_complete(ruleset: Ruleset, answers: dict[str, Any]) -> None:
    missing = missing_questions(ruleset, answers)
    if missing:
        raise Incomplete(
            Msg(
                "{count} question(s) of {ruleset_id} v{version} are unanswered.",
                count=len(missing),
                ruleset_id=ruleset.id,
                version=ruleset.version,
            ),
            [f"answers.{question_id}" for question_id in missing],
        )


# -- screening -----------------------------------------------------------------------------------------------


def _choice_of(answer: Any) -> str:
    return answer["choice"] if isinstance(answer, dict) else str(answer)


def screen(ruleset: Ruleset, answers: dict[str, Any], mitigations: dict[str, Any]) -> dict[str, Any]:
    """The screening: per-viewpoint result, score, level, ``likely_high_risk``, and why."""
    viewpoints, explanation = [], []
    for viewpoint in ruleset.viewpoints:
        drivers, points = [], 0
        for question in viewpoint.questions:
            choice = question.choice(_choice_of(answers[question.id]))
            assert choice is not None
            points += choice.points
            if choice.high:
                drivers.append(
                    {
                        "question": question.id,
                        "choice": choice.id,
                        "label_en": choice.label_en,
                        "label_ja": choice.label_ja,
                    }
                )
        high = bool(drivers)
        viewpoints.append(
            {
                "viewpoint": viewpoint.id,
                "label_en": viewpoint.label_en,
                "label_ja": viewpoint.label_ja,
                "high": high,
                "points": points,
                "max_points": sum(q.max_points for q in viewpoint.questions),
                "drivers": drivers,
            }
        )
        if high:
            explanation.append(
                f"Viewpoint '{viewpoint.label_en}' is on the high side: "
                + "; ".join(f"{d['question']} answered '{d['label_en']}'" for d in drivers)
                + "."
            )
    raw = sum(item["points"] for item in viewpoints)
    maximum = sum(item["max_points"] for item in viewpoints)
    mitigation_score, mitigation_max = _mitigation(ruleset, mitigations)
    reduced = mitigation_max > 0 and mitigation_score >= ruleset.mitigation.reduction_threshold * mitigation_max
    final = round(raw * (1 - ruleset.mitigation.reduction), 4) if reduced else float(raw)
    share = final / maximum if maximum else 0.0
    level = next(level.name for level in ruleset.levels if share <= level.up_to)
    high_viewpoints = [item["viewpoint"] for item in viewpoints if item["high"]]
    likely = (ruleset.screening.any_high_viewpoint and bool(high_viewpoints)) or level in ruleset.screening.high_levels
    explanation.append(
        f"Score {final:g} of {maximum} ({share:.0%}) after mitigation {mitigation_score}/{mitigation_max}"
        + (f", reduced by {ruleset.mitigation.reduction:.0%}" if reduced else "")
        + f": level {level}."
    )
    if not likely:
        explanation.append("No viewpoint is on the high side and the level is not a high level: not likely high risk.")
    return {
        "ruleset_id": ruleset.id,
        "ruleset_version": ruleset.version,
        "viewpoints": viewpoints,
        "high_viewpoints": high_viewpoints,
        "raw_score": raw,
        "max_score": maximum,
        "mitigation_score": mitigation_score,
        "mitigation_max": mitigation_max,
        "reduction_applied": reduced,
        "score": final,
        "level": level,
        "likely_high_risk": likely,
        "explanation": explanation,
    }


def _mitigation(ruleset: Ruleset, mitigations: dict[str, Any]) -> tuple[int, int]:
    score = maximum = 0
    for question in ruleset.mitigation.questions:
        maximum += max(choice.credit for choice in question.choices)
        if question.id in mitigations:
            choice = question.choice(_choice_of(mitigations[question.id]))
            score += choice.credit if choice else 0
    return score, maximum


def compare(
    before: dict[str, Any], candidate: Ruleset, answers: dict[str, Any], mitigations: dict[str, Any]
) -> dict[str, Any] | None:
    """What would change for stored answers under ``candidate``: None when screening and level stay the same."""
    summary_before = {"likely_high_risk": before.get("likely_high_risk"), "level": before.get("level")}
    known_answers = {
        key: value
        for key, value in answers.items()
        if candidate.question(key) is not None and candidate.question(key).choice(_choice_of(value)) is not None
    }  # type: ignore[union-attr]
    missing = missing_questions(candidate, known_answers)
    if missing:
        return {"before": summary_before, "after": {"incomplete": missing}}
    known_mitigations = {
        key: value
        for key, value in mitigations.items()
        if any(q.id == key and q.choice(_choice_of(value)) for q in candidate.mitigation.questions)
    }
    after = screen(candidate, known_answers, known_mitigations)
    summary_after = {"likely_high_risk": after["likely_high_risk"], "level": after["level"]}
    return None if summary_after == summary_before else {"before": summary_before, "after": summary_after}
