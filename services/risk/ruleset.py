"""Risk-evaluation rulesets as versioned data: the schema, parsing, shipped versions and content hashes.

The guideline leaves the exact scoring to the ministries, so aigov keeps every rule of the evaluation
(viewpoints, choices, points, mitigation credits, score bands, the screening rule, how long a classification
stays valid) in a ruleset document instead of in code. A ministry can then publish the official sheet's
wording and thresholds without a release, and every assessment stays pinned to the exact version it was made
under: the content hash below identifies that version's meaning, whatever file or request it came from.

Pure Python: no HTTP, no SQL. Parsing is strict (unknown fields, wrong types and inconsistent rules are
refused with a message naming the offending field) because a ruleset silently read differently from what its
author wrote would misclassify projects for years.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints, ValidationError, model_validator

RULESETS_DIR = Path(__file__).with_name("rulesets")

# A subset of the HTTP layer's identifier pattern, so every id a ruleset defines can be sent back as an answer.
Id = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
LevelId = Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")]
Text = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=1000)]
Points = Annotated[StrictInt, Field(ge=0, le=1000)]
Percent = Annotated[StrictInt, Field(ge=0, le=100)]


class RulesetInvalid(ValueError):
    """A ruleset document was refused; ``errors`` lists every problem as ``{field, message, type}``."""

    def __init__(self, message: str, errors: list[dict[str, str]]):
        super().__init__(message)
        self.errors = errors


class UnknownRuleset(LookupError):
    """No shipped ruleset has the requested id and version."""


class _Strict(BaseModel):
    """Every ruleset model refuses unknown fields (a typo must not drop a rule) and is immutable once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(_Strict):
    """One answer to a risk question: the points it adds and whether it puts its viewpoint on the high side."""

    id: Id
    label_en: Text
    label_ja: Text
    points: Points
    high: StrictBool = False


class MitigationChoice(_Strict):
    """One answer to a mitigation question and the credit it earns."""

    id: Id
    label_en: Text
    label_ja: Text
    credit: Points


def _duplicates(ids: Iterable[str]) -> list[str]:
    """The ids that occur more than once, in order of first appearance (for error messages)."""
    counts = Counter(ids)
    return [key for key, count in counts.items() if count > 1]


def _require_unique(ids: Iterable[str], what: str) -> None:
    repeated = _duplicates(ids)
    if repeated:
        raise ValueError(f"{what} must be unique; repeated: {', '.join(repeated)}")


class Question(_Strict):
    """A risk question of a viewpoint; exactly one of its choices is picked."""

    id: Id
    text_en: Text
    text_ja: Text
    choices: tuple[Choice, ...] = Field(min_length=2, max_length=20)

    @model_validator(mode="after")
    def _choices_consistent(self) -> Question:
        """Unique choice ids; a high-side choice never scores below an ordinary one, so score and screening agree."""
        _require_unique((choice.id for choice in self.choices), f"choice ids of question {self.id}")
        high = [choice.points for choice in self.choices if choice.high]
        ordinary = [choice.points for choice in self.choices if not choice.high]
        if high and ordinary and min(high) < max(ordinary):
            raise ValueError(
                f"question {self.id}: a high-side choice has {min(high)} points, fewer than an ordinary choice ({max(ordinary)});"
                " high-side choices must score at least as much as every other choice"
            )
        return self

    @property
    def max_points(self) -> int:
        return max(choice.points for choice in self.choices)

    def choice(self, choice_id: str) -> Choice | None:
        return next((choice for choice in self.choices if choice.id == choice_id), None)


class MitigationQuestion(_Strict):
    """A mitigation measure asked about; an unanswered one earns no credit."""

    id: Id
    text_en: Text
    text_ja: Text
    choices: tuple[MitigationChoice, ...] = Field(min_length=2, max_length=20)

    @model_validator(mode="after")
    def _unique_choices(self) -> MitigationQuestion:
        _require_unique((choice.id for choice in self.choices), f"choice ids of mitigation question {self.id}")
        return self

    @property
    def max_credit(self) -> int:
        return max(choice.credit for choice in self.choices)

    def choice(self, choice_id: str) -> MitigationChoice | None:
        return next((choice for choice in self.choices if choice.id == choice_id), None)


class Viewpoint(_Strict):
    """One viewpoint of the judgment sheet: it is on the high side when any of its answers is a high-side choice."""

    id: Id
    title_en: Text
    title_ja: Text
    questions: tuple[Question, ...] = Field(min_length=1, max_length=100)

    @property
    def max_points(self) -> int:
        return sum(question.max_points for question in self.questions)


class Band(_Strict):
    """An impact level: final scores up to ``max_percent`` of the maximum score (and above the previous band) fall in it."""

    id: LevelId
    label_en: Text
    label_ja: Text
    max_percent: Annotated[StrictInt, Field(ge=1, le=100)]


class Scoring(_Strict):
    """How the raw score becomes a level: the mitigation reduction (Canada's AIA: 15 % at 80 %) and the bands."""

    mitigation_threshold_percent: Percent = 80
    reduction_percent: Percent = 15
    bands: tuple[Band, ...] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _bands_well_formed(self) -> Scoring:
        """Bands must tile 0-100 % in order, so every score falls in exactly one level."""
        _require_unique((band.id for band in self.bands), "band ids")
        limits = [band.max_percent for band in self.bands]
        if any(later <= earlier for earlier, later in zip(limits, limits[1:])):
            raise ValueError(f"band max_percent values must strictly increase; got {limits}")
        if limits[-1] != 100:
            raise ValueError(f"the last band must end at max_percent 100 so every score has a level; it ends at {limits[-1]}")
        return self

    def band_index(self, band_id: str) -> int | None:
        return next((index for index, band in enumerate(self.bands) if band.id == band_id), None)


class Screening(_Strict):
    """When a project screens likely high risk: any viewpoint on the high side, and/or a level at or above ``from_level``."""

    any_viewpoint_high: StrictBool = True
    from_level: LevelId | None = None


class Ruleset(_Strict):
    """One version of a risk-evaluation ruleset, validated as a whole."""

    id: Id
    version: Annotated[StrictInt, Field(ge=1)]
    title: Text
    title_ja: Text | None = None
    description: Annotated[str, StringConstraints(strict=True, max_length=5000)] = ""
    classification_validity_months: Annotated[StrictInt, Field(ge=1, le=120)] = 12
    viewpoints: tuple[Viewpoint, ...] = Field(min_length=1, max_length=50)
    mitigations: tuple[MitigationQuestion, ...] = Field(default=(), max_length=200)
    scoring: Scoring
    screening: Screening = Screening()

    @model_validator(mode="after")
    def _consistent(self) -> Ruleset:
        """Cross-field rules: unique ids, a positive maximum, a reachable reduction, a screening rule that can fire."""
        self._check_ids()
        self._check_scores()
        self._check_screening()
        return self

    def _check_ids(self) -> None:
        _require_unique((viewpoint.id for viewpoint in self.viewpoints), "viewpoint ids")
        _require_unique([question.id for question in self.questions()] + [question.id for question in self.mitigations], "question ids (risk and mitigation questions together)")

    def _check_scores(self) -> None:
        if self.max_score == 0:
            raise ValueError("the maximum impact score is 0: at least one choice must carry points, or no level can be computed")
        if self.scoring.reduction_percent > 0 and self.mitigation_max == 0:
            raise ValueError(
                f"scoring.reduction_percent is {self.scoring.reduction_percent} but no mitigation question can earn credit,"
                " so the reduction could never apply; add mitigation questions or set reduction_percent to 0"
            )

    def _check_screening(self) -> None:
        rule = self.screening
        if rule.from_level is not None and self.scoring.band_index(rule.from_level) is None:
            raise ValueError(f"screening.from_level {rule.from_level!r} is not one of the band ids {[band.id for band in self.scoring.bands]}")
        if not rule.any_viewpoint_high and rule.from_level is None:
            raise ValueError("screening can never mark a project likely high risk: set any_viewpoint_high or from_level")
        if rule.any_viewpoint_high and rule.from_level is None and not any(choice.high for question in self.questions() for choice in question.choices):
            raise ValueError("screening.any_viewpoint_high is the only rule but no choice has high: true, so nothing could ever screen likely high risk")

    def questions(self) -> Iterator[Question]:
        """Every risk question, in sheet order."""
        for viewpoint in self.viewpoints:
            yield from viewpoint.questions

    @property
    def max_score(self) -> int:
        return sum(viewpoint.max_points for viewpoint in self.viewpoints)

    @property
    def mitigation_max(self) -> int:
        return sum(question.max_credit for question in self.mitigations)


def _error_entry(error: Mapping[str, Any]) -> dict[str, str]:
    field = ".".join(str(part) for part in error["loc"]) or "(document)"
    message = str(error["msg"]).removeprefix("Value error, ")
    return {"field": field, "message": message, "type": str(error["type"])}


def parse_ruleset(content: Mapping[str, Any]) -> Ruleset:
    """Validate a ruleset document (a dict from JSON or YAML); raise ``RulesetInvalid`` listing every problem."""
    if not isinstance(content, Mapping):
        raise RulesetInvalid("A ruleset must be a mapping of fields.", [{"field": "(document)", "message": f"expected a mapping, got {type(content).__name__}", "type": "mapping_type"}])
    try:
        return Ruleset.model_validate(dict(content))
    except ValidationError as error:
        errors = [_error_entry(entry) for entry in error.errors()]
        summary = "; ".join(f"{entry['field']}: {entry['message']}" for entry in errors)
        raise RulesetInvalid(f"The ruleset is not valid: {summary}", errors) from error


def parse_ruleset_yaml(text: str) -> Ruleset:
    """Parse and validate a ruleset written in YAML (the format of the shipped files)."""
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise RulesetInvalid(f"The ruleset is not valid YAML: {error}", [{"field": "(document)", "message": str(error), "type": "yaml_syntax"}]) from error
    return parse_ruleset(content)


def dump_ruleset(ruleset: Ruleset) -> dict[str, Any]:
    """The ruleset as JSON-safe data, every default spelled out; ``parse_ruleset`` of it gives the same ruleset back."""
    return ruleset.model_dump(mode="json")


def canonical_json(ruleset: Ruleset) -> str:
    """One byte-exact JSON text per meaning: sorted keys, no spaces, defaults included, Unicode kept as is."""
    return json.dumps(dump_ruleset(ruleset), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(ruleset: Ruleset) -> str:
    """sha256 (hex) of the canonical JSON: identical for the same rules however they were written (YAML, JSON, key order)."""
    return hashlib.sha256(canonical_json(ruleset).encode("utf-8")).hexdigest()


def shipped_path(ruleset_id: str, version: int) -> Path:
    """Where a shipped version lives: ``rulesets/<id>@<version>.yaml``, one file per version, never edited once shipped."""
    return RULESETS_DIR / f"{ruleset_id}@{version}.yaml"


def _read_shipped(path: Path) -> Ruleset:
    """Parse one shipped file and check that its name matches the id and version it declares."""
    ruleset = parse_ruleset_yaml(path.read_text(encoding="utf-8"))
    expected = shipped_path(ruleset.id, ruleset.version).name
    if path.name != expected:
        message = f"{path.name} declares {ruleset.id} version {ruleset.version}, so it must be named {expected}"
        raise RulesetInvalid(message, [{"field": "(file)", "message": message, "type": "file_name"}])
    return ruleset


@lru_cache(maxsize=1)
def shipped_rulesets() -> tuple[Ruleset, ...]:
    """Every ruleset shipped with this release (``services/risk/rulesets/*@*.yaml``), ordered by (id, version)."""
    rulesets = [_read_shipped(path) for path in RULESETS_DIR.glob("*@*.yaml")]
    return tuple(sorted(rulesets, key=lambda ruleset: (ruleset.id, ruleset.version)))


def load_shipped(ruleset_id: str, version: int) -> Ruleset:
    """The shipped ruleset with this id and version; ``UnknownRuleset`` names what is available otherwise."""
    for ruleset in shipped_rulesets():
        if ruleset.id == ruleset_id and ruleset.version == version:
            return ruleset
    available = ", ".join(f"{ruleset.id} v{ruleset.version}" for ruleset in shipped_rulesets())
    raise UnknownRuleset(f"No shipped ruleset {ruleset_id} version {version}; shipped: {available}")
