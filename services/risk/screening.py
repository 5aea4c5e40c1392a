"""The screening a ruleset defines: which viewpoints are on the high side, the score, the level, and why.

Pure and deterministic: the result depends only on the ruleset and the answers, is computed with integers
(the 15 % reduction and the band limits are exact, no floating point), and follows the ruleset's order, so an
assessment replayed years later under its pinned ruleset version screens exactly as it did.

Answers map a question id to a choice id. Justifications are the caller's business; so is deciding whether an
incomplete evaluation may be saved (``check_answers`` validates ids only; ``screen`` requires every question).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, TypeVar, overload

from services.risk.ruleset import Band, Choice, MitigationChoice, MitigationQuestion, Question, Ruleset, Viewpoint, content_hash

HUNDREDTHS = Decimal("0.01")
Q = TypeVar("Q", Question, MitigationQuestion)


class AnswerError(ValueError):
    """An answer does not fit the ruleset; ``field`` locates it (``answers.<question>`` or ``....choice``)."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


class UnknownQuestion(AnswerError):
    """An answer names a question the ruleset does not have (in that section: risk answers or mitigations)."""

    def __init__(self, message: str, field: str, question_id: str):
        super().__init__(message, field)
        self.question_id = question_id


class UnknownChoice(AnswerError):
    """An answer names a choice its question does not offer."""

    def __init__(self, message: str, field: str, question_id: str, choice_id: str):
        super().__init__(message, field)
        self.question_id = question_id
        self.choice_id = choice_id


class IncompleteAnswers(ValueError):
    """``screen`` needs every risk question answered: a gap would silently understate the risk."""

    def __init__(self, message: str, missing: list[str]):
        super().__init__(message)
        self.missing = missing


@dataclass(frozen=True)
class AnsweredChoice:
    """The choice picked for one risk question, with what it contributes."""

    question_id: str
    choice_id: str
    label_en: str
    label_ja: str
    points: int
    high: bool


@dataclass(frozen=True)
class MitigationCredit:
    """The choice picked for one mitigation question and the credit it earns out of the question's maximum."""

    question_id: str
    choice_id: str
    label_en: str
    label_ja: str
    credit: int
    max_credit: int


@dataclass(frozen=True)
class ViewpointResult:
    """One viewpoint: on the high side or not, its points, and the answer that drove it."""

    viewpoint_id: str
    title_en: str
    title_ja: str
    high: bool
    points: int
    max_points: int
    driver: AnsweredChoice
    answers: tuple[AnsweredChoice, ...]


@dataclass(frozen=True)
class ScreeningResult:
    """Everything the screening concluded and why; ``as_dict`` gives the JSON form stored with an assessment."""

    ruleset_id: str
    ruleset_version: int
    ruleset_hash: str
    viewpoints: tuple[ViewpointResult, ...]
    raw_score: int
    max_score: int
    mitigations: tuple[MitigationCredit, ...]
    mitigation_score: int
    mitigation_max: int
    reduction_applied: bool
    final_score: Decimal
    score_percent: Decimal
    level: str
    level_label_en: str
    level_label_ja: str
    level_index: int
    likely_high_risk: bool
    explanation: tuple[str, ...]
    explanation_ja: tuple[str, ...]

    @property
    def high_viewpoints(self) -> tuple[str, ...]:
        """Ids of the viewpoints on the high side, in sheet order."""
        return tuple(viewpoint.viewpoint_id for viewpoint in self.viewpoints if viewpoint.high)

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form; scores with hundredths become numbers, everything else keeps its type."""
        return {
            "ruleset_id": self.ruleset_id,
            "ruleset_version": self.ruleset_version,
            "ruleset_hash": self.ruleset_hash,
            "viewpoints": [_viewpoint_dict(viewpoint) for viewpoint in self.viewpoints],
            "high_viewpoints": list(self.high_viewpoints),
            "raw_score": self.raw_score,
            "max_score": self.max_score,
            "mitigations": [asdict(credit) for credit in self.mitigations],
            "mitigation_score": self.mitigation_score,
            "mitigation_max": self.mitigation_max,
            "reduction_applied": self.reduction_applied,
            "final_score": float(self.final_score),
            "score_percent": float(self.score_percent),
            "level": self.level,
            "level_label_en": self.level_label_en,
            "level_label_ja": self.level_label_ja,
            "likely_high_risk": self.likely_high_risk,
            "explanation": list(self.explanation),
            "explanation_ja": list(self.explanation_ja),
        }


def _viewpoint_dict(viewpoint: ViewpointResult) -> dict[str, Any]:
    return {**asdict(viewpoint), "answers": [asdict(answer) for answer in viewpoint.answers]}


# -- answers --------------------------------------------------------------------------------------------------


def missing_questions(ruleset: Ruleset, answers: Mapping[str, Any]) -> list[str]:
    """Ids of the risk questions not yet answered, in sheet order (mitigation questions are optional)."""
    return [question.id for question in ruleset.questions() if question.id not in answers]


def check_answers(ruleset: Ruleset, answers: Mapping[str, Any], mitigations: Mapping[str, Any]) -> None:
    """Every answer names a question of its section and one of that question's choices; gaps are allowed here."""
    risk = {question.id: question for question in ruleset.questions()}
    measures = {question.id: question for question in ruleset.mitigations}
    for question_id, choice_id in answers.items():
        _choice(_question(ruleset, risk, measures, "answers", question_id), choice_id, "answers")
    for question_id, choice_id in mitigations.items():
        _choice(_question(ruleset, measures, risk, "mitigations", question_id), choice_id, "mitigations")


def _question(ruleset: Ruleset, section: Mapping[str, Q], other: Mapping[str, object], name: str, question_id: str) -> Q:
    """The question ``question_id`` of this section, or ``UnknownQuestion`` (saying so if it belongs to the other one)."""
    found = section.get(question_id)
    if found is not None:
        return found
    other_name = "mitigations" if name == "answers" else "answers"
    hint = f"; it is a question of {other_name}, send it there" if question_id in other else ""
    kind = "mitigation question" if name == "mitigations" else "question"
    message = f"Ruleset {ruleset.id} v{ruleset.version} has no {kind} {question_id!r}{hint}."
    raise UnknownQuestion(message, f"{name}.{question_id}", str(question_id))


@overload
def _choice(question: Question, choice_id: object, name: str) -> Choice: ...
@overload
def _choice(question: MitigationQuestion, choice_id: object, name: str) -> MitigationChoice: ...
def _choice(question: Question | MitigationQuestion, choice_id: object, name: str) -> Choice | MitigationChoice:
    """The choice ``choice_id`` of ``question``, or ``UnknownChoice`` listing the valid ones."""
    found = question.choice(choice_id) if isinstance(choice_id, str) else None
    if found is not None:
        return found
    valid = ", ".join(choice.id for choice in question.choices)
    message = f"Question {question.id!r} has no choice {choice_id!r}; choose one of: {valid}."
    raise UnknownChoice(message, f"{name}.{question.id}.choice", question.id, choice_id if isinstance(choice_id, str) else repr(choice_id))


def _require_complete(ruleset: Ruleset, answers: Mapping[str, Any]) -> None:
    missing = missing_questions(ruleset, answers)
    if missing:
        raise IncompleteAnswers(f"{len(missing)} question(s) of {ruleset.id} v{ruleset.version} are unanswered: {', '.join(missing)}.", missing)


# -- scoring -----------------------------------------------------------------------------------------------------


def _answered(question: Question, choice_id: str) -> AnsweredChoice:
    choice = _choice(question, choice_id, "answers")
    return AnsweredChoice(question.id, choice.id, choice.label_en, choice.label_ja, choice.points, choice.high)


def _viewpoint_result(viewpoint: Viewpoint, answers: Mapping[str, str]) -> ViewpointResult:
    """High when any answer is a high-side choice; the driver is the highest (high, points) answer, first in sheet order."""
    picked = tuple(_answered(question, answers[question.id]) for question in viewpoint.questions)
    driver = max(picked, key=lambda answer: (answer.high, answer.points))
    high = any(answer.high for answer in picked)
    points = sum(answer.points for answer in picked)
    return ViewpointResult(viewpoint.id, viewpoint.title_en, viewpoint.title_ja, high, points, viewpoint.max_points, driver, picked)


def _credits(ruleset: Ruleset, mitigations: Mapping[str, str]) -> tuple[MitigationCredit, ...]:
    """The credit of every answered mitigation question, in ruleset order; unanswered ones earn nothing."""
    credits = []
    for question in ruleset.mitigations:
        if question.id in mitigations:
            choice = _choice(question, mitigations[question.id], "mitigations")
            credits.append(MitigationCredit(question.id, choice.id, choice.label_en, choice.label_ja, choice.credit, question.max_credit))
    return tuple(credits)


def reduction_applies(ruleset: Ruleset, mitigation_score: int) -> bool:
    """Canada's AIA rule: the reduction applies when the mitigation score reaches the threshold share of its maximum."""
    scoring, maximum = ruleset.scoring, ruleset.mitigation_max
    return maximum > 0 and scoring.reduction_percent > 0 and mitigation_score * 100 >= scoring.mitigation_threshold_percent * maximum


def final_hundredths(ruleset: Ruleset, raw_score: int, reduced: bool) -> int:
    """The final score in hundredths of a point: exact, since the reduction is a whole percentage."""
    return raw_score * (100 - ruleset.scoring.reduction_percent) if reduced else raw_score * 100


def level_index(ruleset: Ruleset, hundredths: int) -> int:
    """The first band whose limit the score does not exceed: score/max <= limit%  <=>  hundredths <= limit * max."""
    bands = ruleset.scoring.bands
    return next(index for index, band in enumerate(bands) if hundredths <= band.max_percent * ruleset.max_score)


def _screening_reasons(ruleset: Ruleset, viewpoints: tuple[ViewpointResult, ...], level: int) -> tuple[bool, bool]:
    """Which rule fires: (a viewpoint is on the high side, the level reaches ``from_level``), each only if enabled."""
    rule = ruleset.screening
    by_viewpoint = rule.any_viewpoint_high and any(viewpoint.high for viewpoint in viewpoints)
    by_level = rule.from_level is not None and level >= _from_index(ruleset)
    return by_viewpoint, by_level


def _from_index(ruleset: Ruleset) -> int:
    index = ruleset.scoring.band_index(ruleset.screening.from_level or "")
    assert index is not None, "the ruleset validator guarantees from_level names a band"
    return index


def _percent(part: int, whole: int) -> Decimal:
    return (Decimal(part * 100) / Decimal(whole)).quantize(HUNDREDTHS, rounding=ROUND_HALF_EVEN)


def screen(ruleset: Ruleset, answers: Mapping[str, str], mitigations: Mapping[str, str]) -> ScreeningResult:
    """Screen a complete set of answers under ``ruleset``; raises ``AnswerError`` or ``IncompleteAnswers`` first."""
    check_answers(ruleset, answers, mitigations)
    _require_complete(ruleset, answers)
    viewpoints = tuple(_viewpoint_result(viewpoint, answers) for viewpoint in ruleset.viewpoints)
    credits = _credits(ruleset, mitigations)
    raw = sum(viewpoint.points for viewpoint in viewpoints)
    mitigation_score = sum(credit.credit for credit in credits)
    reduced = reduction_applies(ruleset, mitigation_score)
    hundredths = final_hundredths(ruleset, raw, reduced)
    index = level_index(ruleset, hundredths)
    band = ruleset.scoring.bands[index]
    likely = any(_screening_reasons(ruleset, viewpoints, index))
    facts = _Facts(ruleset, viewpoints, raw, mitigation_score, reduced, Decimal(hundredths).scaleb(-2), _percent(hundredths, ruleset.max_score * 100), index, likely)
    return ScreeningResult(
        ruleset_id=ruleset.id,
        ruleset_version=ruleset.version,
        ruleset_hash=content_hash(ruleset),
        viewpoints=viewpoints,
        raw_score=raw,
        max_score=ruleset.max_score,
        mitigations=credits,
        mitigation_score=mitigation_score,
        mitigation_max=ruleset.mitigation_max,
        reduction_applied=reduced,
        final_score=facts.final_score,
        score_percent=facts.score_percent,
        level=band.id,
        level_label_en=band.label_en,
        level_label_ja=band.label_ja,
        level_index=index,
        likely_high_risk=likely,
        explanation=_explain_en(facts),
        explanation_ja=_explain_ja(facts),
    )


# -- explanation -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Facts:
    """What the explanation sentences are written from."""

    ruleset: Ruleset
    viewpoints: tuple[ViewpointResult, ...]
    raw_score: int
    mitigation_score: int
    reduced: bool
    final_score: Decimal
    score_percent: Decimal
    level_index: int
    likely: bool

    @property
    def band(self) -> Band:
        return self.ruleset.scoring.bands[self.level_index]

    @property
    def high(self) -> list[ViewpointResult]:
        return [viewpoint for viewpoint in self.viewpoints if viewpoint.high]

    @property
    def reasons(self) -> tuple[bool, bool]:
        return _screening_reasons(self.ruleset, self.viewpoints, self.level_index)

    @property
    def contributions(self) -> list[ViewpointResult]:
        """Viewpoints that scored, largest first (sheet order among equals)."""
        return sorted((viewpoint for viewpoint in self.viewpoints if viewpoint.points > 0), key=lambda viewpoint: -viewpoint.points)


def _num(value: Decimal | int) -> str:
    """5.95 -> "5.95", 7.00 -> "7", 42.50 -> "42.5": no float, no exponent."""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _band_range_en(ruleset: Ruleset, index: int) -> str:
    bands = ruleset.scoring.bands
    upper = f"up to {bands[index].max_percent}% of the maximum"
    return upper if index == 0 else f"above {bands[index - 1].max_percent}% and {upper}"


def _band_range_ja(ruleset: Ruleset, index: int) -> str:
    bands = ruleset.scoring.bands
    upper = f"{bands[index].max_percent}%以下"
    return upper if index == 0 else f"{bands[index - 1].max_percent}%超{upper}"


def _explain_en(facts: _Facts) -> tuple[str, ...]:
    """English sentences: the high-side viewpoints and their answers, the verdict, the score, mitigation, level."""
    return (*map(_high_line_en, facts.high), _verdict_en(facts), _score_en(facts), _mitigation_en(facts), _level_en(facts))


def _high_line_en(viewpoint: ViewpointResult) -> str:
    driver = viewpoint.driver
    return f'Viewpoint "{viewpoint.title_en}" is on the high side: question {driver.question_id} was answered "{driver.label_en}" (a high-side choice, {driver.points} points).'


def _verdict_en(facts: _Facts) -> str:
    by_viewpoint, by_level = facts.reasons
    rule, level = facts.ruleset.screening, facts.band.id
    if facts.likely:
        reasons = [f"{len(facts.high)} viewpoint(s) on the high side ({'; '.join(v.title_en for v in facts.high)})"] if by_viewpoint else []
        reasons += [f"level {level} is at or above the screening level {rule.from_level}"] if by_level else []
        return "Likely high risk: " + " and ".join(reasons) + "."
    reasons = ["no viewpoint is on the high side"] if rule.any_viewpoint_high else []
    reasons += [f"level {level} is below the screening level {rule.from_level}"] if rule.from_level is not None else []
    return "Not likely high risk: " + " and ".join(reasons) + "."


def _score_en(facts: _Facts) -> str:
    head = f"Raw impact score {facts.raw_score} of {facts.ruleset.max_score}"
    if not facts.contributions:
        return head + ": no answer carries points."
    return head + "; points by viewpoint: " + ", ".join(f"{v.title_en} {v.points}" for v in facts.contributions) + "."


def _mitigation_en(facts: _Facts) -> str:
    scoring, maximum = facts.ruleset.scoring, facts.ruleset.mitigation_max
    if maximum == 0 or scoring.reduction_percent == 0:
        return "The ruleset grants no reduction for mitigation."
    head = f"Mitigation score {facts.mitigation_score} of {maximum} ({_num(_percent(facts.mitigation_score, maximum))}%)"
    if facts.reduced:
        return f"{head} reaches the {scoring.mitigation_threshold_percent}% threshold: the raw score is reduced by {scoring.reduction_percent}% to {_num(facts.final_score)}."
    return f"{head} is below the {scoring.mitigation_threshold_percent}% threshold: no reduction."


def _level_en(facts: _Facts) -> str:
    band = facts.band
    where = _band_range_en(facts.ruleset, facts.level_index)
    return f"Final score {_num(facts.final_score)} of {facts.ruleset.max_score} ({_num(facts.score_percent)}%) is level {band.id} ({band.label_en}): {where}."


def _explain_ja(facts: _Facts) -> tuple[str, ...]:
    """The same sentences in Japanese, for the ministry's records."""
    return (*map(_high_line_ja, facts.high), _verdict_ja(facts), _score_ja(facts), _mitigation_ja(facts), _level_ja(facts))


def _high_line_ja(viewpoint: ViewpointResult) -> str:
    driver = viewpoint.driver
    return f"観点「{viewpoint.title_ja}」は高リスク側です：質問 {driver.question_id} に「{driver.label_ja}」と回答（高リスク側の選択肢、{driver.points}点）。"


def _verdict_ja(facts: _Facts) -> str:
    by_viewpoint, by_level = facts.reasons
    rule, level = facts.ruleset.screening, facts.band.id
    if facts.likely:
        reasons = [f"高リスク側の観点が{len(facts.high)}つあります（{'、'.join(v.title_ja for v in facts.high)}）"] if by_viewpoint else []
        reasons += [f"レベル{level}は判定基準のレベル{rule.from_level}以上です"] if by_level else []
        return "高リスクの可能性あり：" + "。また、".join(reasons) + "。"
    reasons = ["高リスク側の観点はありません"] if rule.any_viewpoint_high else []
    reasons += [f"レベル{level}は判定基準のレベル{rule.from_level}未満です"] if rule.from_level is not None else []
    return "高リスクの可能性は低い：" + "。また、".join(reasons) + "。"


def _score_ja(facts: _Facts) -> str:
    head = f"素点は{facts.ruleset.max_score}点中{facts.raw_score}点です"
    if not facts.contributions:
        return head + "（点数のある回答はありません）。"
    return head + "（観点別：" + "、".join(f"{v.title_ja} {v.points}点" for v in facts.contributions) + "）。"


def _mitigation_ja(facts: _Facts) -> str:
    scoring, maximum = facts.ruleset.scoring, facts.ruleset.mitigation_max
    if maximum == 0 or scoring.reduction_percent == 0:
        return "このルールセットでは、リスク低減策による減点はありません。"
    head = f"リスク低減策の点数は{maximum}点中{facts.mitigation_score}点（{_num(_percent(facts.mitigation_score, maximum))}%）で"
    if facts.reduced:
        return f"{head}、基準の{scoring.mitigation_threshold_percent}%に達したため、素点を{scoring.reduction_percent}%減じて{_num(facts.final_score)}点とします。"
    return f"{head}、基準の{scoring.mitigation_threshold_percent}%に達しないため、減点はありません。"


def _level_ja(facts: _Facts) -> str:
    band = facts.band
    where = _band_range_ja(facts.ruleset, facts.level_index)
    return f"最終点数{_num(facts.final_score)}点は最大{facts.ruleset.max_score}点の{_num(facts.score_percent)}%で、レベル{band.id}（{band.label_ja}）です（{where}）。"
