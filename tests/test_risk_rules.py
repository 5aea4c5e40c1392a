"""Unit tests of the shipped rulesets and the screening they define (no HTTP, no database)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.risk import evaluation
from services.risk.domain import Incomplete

JP = evaluation.load_shipped("jp-genai-2.0", 1)
CA = evaluation.load_shipped("ca-aia-example", 1)


def choose(**choices: str) -> dict[str, dict[str, str]]:
    return {question: {"choice": choice, "justification": "because"} for question, choice in choices.items()}


def lowest(ruleset: evaluation.Ruleset) -> dict[str, dict[str, str]]:
    return choose(
        **{question.id: min(question.choices, key=lambda c: (c.points, c.high)).id for question in ruleset.questions()}
    )


@pytest.mark.parametrize(
    ("question", "choice"),
    [
        ("users", "public"),
        ("nature_of_work", "public_information"),
        ("nature_of_work", "administrative_decisions"),
        ("confidential_data", "confidential_or_personal"),
        ("staff_judgment", "none"),
    ],
)
def test_each_high_side_answer_alone_makes_a_project_likely_high_risk(question: str, choice: str) -> None:
    result = evaluation.screen(JP, {**lowest(JP), **choose(**{question: choice})}, {})
    assert result["likely_high_risk"] is True
    assert len(result["high_viewpoints"]) == 1
    assert any(question in line for line in result["explanation"])


def test_the_low_side_answers_are_not_likely_high_risk() -> None:
    result = evaluation.screen(
        JP,
        choose(
            users="staff_only",
            nature_of_work="internal_support",
            confidential_data="internal",
            staff_judgment="every_output",
        ),
        {},
    )
    assert result["likely_high_risk"] is False and result["level"] == "I" and result["high_viewpoints"] == []


def test_sampled_staff_review_is_not_high_side_but_scores() -> None:
    result = evaluation.screen(JP, {**lowest(JP), **choose(staff_judgment="sampled")}, {})
    assert result["likely_high_risk"] is False and result["raw_score"] == 2


def ca_answers(points_target: str) -> dict[str, dict[str, str]]:
    table = {
        "low": dict(
            **{
                "rights.effect": "none",
                "reversibility.effects": "reversible",
                "scale.people": "few",
                "data.sensitivity": "open",
            }
        ),
        "high": dict(
            **{
                "rights.effect": "direct",
                "reversibility.effects": "irreversible",
                "scale.people": "many",
                "data.sensitivity": "protected",
            }
        ),
    }
    return choose(**table[points_target])


def test_the_fifteen_percent_reduction_applies_at_eighty_percent_mitigation_and_not_below() -> None:
    answers = ca_answers("high")  # 4 + 4 + 1 + 2 = 11 of 15
    full = evaluation.screen(
        CA,
        answers,
        choose(**{"mitigation.peer_review": "yes", "mitigation.recourse": "yes", "mitigation.monitoring": "no"}),
    )  # 4 of 5 = 80 %
    below = evaluation.screen(
        CA,
        answers,
        choose(**{"mitigation.peer_review": "yes", "mitigation.recourse": "no", "mitigation.monitoring": "yes"}),
    )  # 3 of 5
    assert full["reduction_applied"] is True and full["score"] == pytest.approx(11 * 0.85)
    assert below["reduction_applied"] is False and below["score"] == 11


@pytest.mark.parametrize(
    ("score", "level"),
    [(0, "I"), (3.75, "I"), (4, "II"), (7.5, "II"), (8, "III"), (11.25, "III"), (12, "IV"), (15, "IV")],
)
def test_levels_are_cut_at_25_50_and_75_percent_of_the_maximum(score: float, level: str) -> None:
    assert CA.levels and next(item.name for item in CA.levels if score / 15 <= item.up_to) == level


def test_points_based_screening_is_likely_high_from_level_three() -> None:
    assert evaluation.screen(CA, ca_answers("high"), {})["level"] == "III"
    assert evaluation.screen(CA, ca_answers("high"), {})["likely_high_risk"] is True
    assert evaluation.screen(CA, ca_answers("low"), {})["likely_high_risk"] is False


def test_missing_questions_are_listed_and_unknown_ids_refused() -> None:
    with pytest.raises(Incomplete) as missing:
        evaluation.require_complete(JP, choose(users="public"))
    assert missing.value.missing == ["answers.nature_of_work", "answers.confidential_data", "answers.staff_judgment"]
    with pytest.raises(evaluation.AnswerError) as unknown:
        evaluation.check_answers(JP, choose(users="martians"), {})
    assert unknown.value.field == "body.answers.users.choice"
    with pytest.raises(evaluation.AnswerError):
        evaluation.check_answers(JP, {}, choose(**{"mitigation.nothing": "yes"}))


def test_content_hash_is_stable_and_changes_with_content() -> None:
    content = evaluation.dump(JP)
    assert evaluation.content_hash(evaluation.parse(copy.deepcopy(content))) == evaluation.content_hash(JP)
    content["viewpoints"][0]["label_en"] = "Users of the system"
    assert evaluation.content_hash(evaluation.parse(content)) != evaluation.content_hash(JP)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda c: c["viewpoints"].append(copy.deepcopy(c["viewpoints"][0])), "viewpoints"),
        (lambda c: c.update(levels=[{"name": "I", "up_to": 0.5}, {"name": "II", "up_to": 0.4}]), "levels"),
        (lambda c: c["screening"].update(high_levels=["V"]), "screening"),
        (lambda c: c["viewpoints"][0]["questions"][0]["choices"].pop(), "viewpoints.0.questions.0.choices"),
        (lambda c: c.update(colour="blue"), "colour"),
    ],
)
def test_invalid_rulesets_are_refused_naming_the_fault(mutate: Any, field: str) -> None:
    content = evaluation.dump(JP)
    mutate(content)
    with pytest.raises(evaluation.RulesetInvalid) as invalid:
        evaluation.parse(content)
    assert invalid.value.errors and all(error["message"] for error in invalid.value.errors)
    assert any(error["field"] == field for error in invalid.value.errors), invalid.value.errors


def answer_sets(ruleset: evaluation.Ruleset) -> st.SearchStrategy[dict[str, int]]:
    """Each question mapped to the index of its chosen choice, in the ruleset's order."""
    return st.fixed_dictionaries(
        {question.id: st.integers(0, len(question.choices) - 1) for question in ruleset.questions()}
    )


def riskier(a: evaluation.Choice, b: evaluation.Choice) -> bool:
    """b is at least as risky as a: no fewer points, and high whenever a is high."""
    return b.points >= a.points and (b.high or not a.high)


LEVEL_ORDER = {"I": 1, "II": 2, "III": 3, "IV": 4}


@pytest.mark.parametrize("ruleset", [JP, CA], ids=["jp", "ca"])
@given(data=st.data())
def test_screening_is_monotone_in_riskier_answers(ruleset: evaluation.Ruleset, data: st.DataObject) -> None:
    picks = data.draw(answer_sets(ruleset))
    mitigation = {
        question.id: {"choice": data.draw(st.sampled_from(question.choices)).id}
        for question in ruleset.mitigation.questions
    }
    question = data.draw(st.sampled_from(ruleset.questions()))
    current = question.choices[picks[question.id]]
    candidates = [choice for choice in question.choices if riskier(current, choice)]
    replacement = data.draw(st.sampled_from(candidates))

    def as_answers(choice_for: dict[str, str]) -> dict[str, dict[str, str]]:
        return choose(**choice_for)

    base = {q.id: q.choices[picks[q.id]].id for q in ruleset.questions()}
    before = evaluation.screen(ruleset, as_answers(base), mitigation)
    after = evaluation.screen(ruleset, as_answers({**base, question.id: replacement.id}), mitigation)
    assert after["score"] >= before["score"]
    assert LEVEL_ORDER[after["level"]] >= LEVEL_ORDER[before["level"]]
    assert after["likely_high_risk"] >= before["likely_high_risk"]


@pytest.mark.parametrize("ruleset", [JP, CA], ids=["jp", "ca"])
@given(data=st.data())
def test_more_mitigation_never_raises_the_score(ruleset: evaluation.Ruleset, data: st.DataObject) -> None:
    picks = data.draw(answer_sets(ruleset))
    answers = choose(**{q.id: q.choices[picks[q.id]].id for q in ruleset.questions()})
    weaker = {q.id: data.draw(st.sampled_from(q.choices)) for q in ruleset.mitigation.questions}
    stronger = {
        qid: max((c for c in q.choices if c.credit >= weaker[qid].credit), key=lambda c: c.credit)
        for qid, q in ((q.id, q) for q in ruleset.mitigation.questions)
    }
    low = evaluation.screen(ruleset, answers, {qid: {"choice": c.id} for qid, c in weaker.items()})
    high = evaluation.screen(ruleset, answers, {qid: {"choice": c.id} for qid, c in stronger.items()})
    assert high["score"] <= low["score"]
