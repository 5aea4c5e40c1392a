"""RulesetVersion (publish) and the ruleset rules of services/risk/evaluation.py: schema, answers, completeness,
screening and the rescoring comparison."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError
from hypothesis import given
from hypothesis import strategies as st

from services.risk import evaluation
from services.risk.domain import Incomplete, RulesetVersion
from tests.unit.memory import ADMIN, JP, InMemoryLog, answers_for, assert_replay_equals_live

CA = evaluation.load_shipped("ca-aia-example", 1)


def published(ruleset: evaluation.Ruleset = JP) -> RulesetVersion:
    return RulesetVersion(
        ruleset_id=ruleset.id,
        version=ruleset.version,
        content_hash=evaluation.content_hash(ruleset),
        content=evaluation.dump(ruleset),
        meta=ADMIN,
    )


def choose(**choices: str) -> dict[str, dict[str, str]]:
    return {question: {"choice": choice} for question, choice in choices.items()}


# -- publish (RulesetVersion) ------------------------------------------------------------------------------------


def test_a_published_version_is_found_by_ruleset_id_and_version_and_screens_as_before(log: InMemoryLog) -> None:
    version = published()
    log.save(version)
    loaded = log.repository.get(RulesetVersion.create_id("jp-genai-2.0", 1))
    assert loaded.content_hash == evaluation.content_hash(evaluation.parse(loaded.content))
    answers = answers_for(JP, high=True)
    assert evaluation.screen(evaluation.parse(loaded.content), answers, {}) == evaluation.screen(JP, answers, {})
    assert_replay_equals_live(log, published(CA))


def test_a_version_is_published_only_once(log: InMemoryLog) -> None:
    log.save(published())
    changed = evaluation.dump(JP)
    changed["title"] = "Edited after publication"
    with pytest.raises(IntegrityError):
        log.save(
            RulesetVersion(
                ruleset_id=JP.id,
                version=JP.version,
                content_hash=evaluation.content_hash(evaluation.parse(changed)),
                content=changed,
                meta=ADMIN,
            )
        )
    assert log.types() == ["RulesetPublished"] and log.repository.get(published().id).content["title"] == JP.title


def test_versions_and_rulesets_have_distinct_ids() -> None:
    ids = {RulesetVersion.create_id(r, v) for r in ("jp-genai-2.0", "ca-aia-example") for v in (1, 2)}
    assert len(ids) == 4


@pytest.fixture
def log() -> InMemoryLog:
    return InMemoryLog("risk")


# -- the schema --------------------------------------------------------------------------------------------------


def test_the_shipped_rulesets_are_valid_and_hash_stably() -> None:
    for content in evaluation.shipped_contents():
        ruleset = evaluation.parse(content)
        assert evaluation.content_hash(evaluation.parse(copy.deepcopy(content))) == evaluation.content_hash(ruleset)


def test_any_change_of_content_changes_the_hash() -> None:
    content = evaluation.dump(JP)
    content["viewpoints"][0]["label_ja"] += "。"
    assert evaluation.content_hash(evaluation.parse(content)) != evaluation.content_hash(JP)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda c: c["viewpoints"].append(copy.deepcopy(c["viewpoints"][0])), "viewpoints"),
        (lambda c: c["viewpoints"][1]["questions"].append(c["viewpoints"][0]["questions"][0]), "viewpoints"),
        (lambda c: c["viewpoints"][0]["questions"][0]["choices"].pop(), "viewpoints.0.questions.0.choices"),
        (lambda c: c.update(levels=[{"name": "I", "up_to": 0.5}, {"name": "II", "up_to": 0.4}]), "levels"),
        (lambda c: c.update(levels=[{"name": "I", "up_to": 0.5}]), "levels"),
        (lambda c: c["screening"].update(high_levels=["V"]), "screening"),
        (lambda c: c.update(classification_validity_months=0), "classification_validity_months"),
        (lambda c: c["mitigation"]["questions"][0].update(id="users"), "mitigation"),
        (lambda c: c.update(colour="blue"), "colour"),
    ],
    ids=[
        "repeated-viewpoint",
        "repeated-question",
        "single-choice",
        "levels-not-increasing",
        "levels-not-ending-at-1",
        "unknown-high-level",
        "zero-validity",
        "mitigation-id-clash",
        "unknown-field",
    ],
)
def test_an_invalid_ruleset_is_refused_naming_the_field_at_fault(mutate: Any, field: str) -> None:
    content = evaluation.dump(JP)
    mutate(content)
    with pytest.raises(evaluation.RulesetInvalid) as refused:
        evaluation.parse(content)
    assert field in [error["field"] for error in refused.value.errors], refused.value.errors


# -- answers and completeness ------------------------------------------------------------------------------------


def test_answers_naming_known_questions_and_choices_are_accepted() -> None:
    evaluation.check_answers(JP, answers_for(JP, True), choose(**{"mitigation.logging": "partial"}))


@pytest.mark.parametrize(
    ("answers", "mitigations", "field"),
    [
        (choose(martians="yes"), {}, "body.answers.martians"),
        (choose(users="martians"), {}, "body.answers.users.choice"),
        ({}, choose(**{"mitigation.prayer": "yes"}), "body.mitigations.mitigation.prayer"),
        ({}, choose(**{"mitigation.logging": "always"}), "body.mitigations.mitigation.logging.choice"),
    ],
)
def test_an_answer_the_pinned_ruleset_does_not_know_is_refused_naming_it(
    answers: dict, mitigations: dict, field: str
) -> None:
    with pytest.raises(evaluation.AnswerError) as refused:
        evaluation.check_answers(JP, answers, mitigations)
    assert refused.value.field == field


def test_a_complete_set_of_answers_passes_and_every_unanswered_question_is_listed() -> None:
    evaluation.require_complete(JP, answers_for(JP, False))
    with pytest.raises(Incomplete) as refused:
        evaluation.require_complete(JP, choose(nature_of_work="internal_support"))
    assert refused.value.missing == ["answers.users", "answers.confidential_data", "answers.staff_judgment"]


# -- screening -------------------------------------------------------------------------------------------------------


def test_the_mildest_answers_are_not_likely_high_risk_and_explain_why() -> None:
    result = evaluation.screen(JP, answers_for(JP, False), {})
    assert (result["likely_high_risk"], result["level"], result["high_viewpoints"]) == (False, "I", [])
    assert result["explanation"][-1].startswith("No viewpoint is on the high side")


@pytest.mark.parametrize(
    ("question", "choice"),
    [("users", "public"), ("nature_of_work", "administrative_decisions"), ("staff_judgment", "none")],
)
def test_one_high_side_answer_makes_the_project_likely_high_risk(question: str, choice: str) -> None:
    answers = {**answers_for(JP, False), **choose(**{question: choice})}
    result = evaluation.screen(JP, answers, {})
    assert result["likely_high_risk"] is True and len(result["high_viewpoints"]) == 1
    drivers = [driver["question"] for viewpoint in result["viewpoints"] for driver in viewpoint["drivers"]]
    assert drivers == [question] and any(question in line for line in result["explanation"])


def test_points_rulesets_are_likely_high_from_their_high_levels_with_the_mitigation_reduction() -> None:
    answers = choose(
        **{"rights.effect": "direct", "reversibility.effects": "irreversible", "scale.people": "many"},
        **{"data.sensitivity": "protected"},
    )  # 11 of 15 points: level III
    plain = evaluation.screen(CA, answers, {})
    assert (plain["raw_score"], plain["level"], plain["likely_high_risk"]) == (11, "III", True)
    mitigated = evaluation.screen(
        CA, answers, choose(**{"mitigation.peer_review": "yes", "mitigation.recourse": "yes"})
    )  # 4 of 5 credits: 80 %
    assert mitigated["reduction_applied"] is True and mitigated["score"] == pytest.approx(9.35)
    assert (mitigated["level"], mitigated["likely_high_risk"]) == ("III", True)
    below = evaluation.screen(CA, answers, choose(**{"mitigation.peer_review": "yes", "mitigation.monitoring": "yes"}))
    assert below["reduction_applied"] is False and below["score"] == 11


@given(st.data())
def test_screening_is_deterministic_and_its_level_matches_its_score(data: st.DataObject) -> None:
    ruleset = data.draw(st.sampled_from([JP, CA]))
    answers = {q.id: {"choice": data.draw(st.sampled_from(q.choices)).id} for q in ruleset.questions()}
    mitigations = {q.id: {"choice": data.draw(st.sampled_from(q.choices)).id} for q in ruleset.mitigation.questions}
    result = evaluation.screen(ruleset, answers, mitigations)
    assert result == evaluation.screen(ruleset, copy.deepcopy(answers), copy.deepcopy(mitigations))
    share = result["score"] / result["max_score"]
    assert result["level"] == next(level.name for level in ruleset.levels if share <= level.up_to)
    assert result["likely_high_risk"] == (
        (ruleset.screening.any_high_viewpoint and bool(result["high_viewpoints"]))
        or result["level"] in ruleset.screening.high_levels
    )


# -- rescoring comparison --------------------------------------------------------------------------------------------


def test_compare_reports_nothing_when_a_new_version_screens_the_same() -> None:
    answers = answers_for(JP, True)
    before = evaluation.screen(JP, answers, {})
    assert evaluation.compare(before, evaluation.parse({**evaluation.dump(JP), "version": 2}), answers, {}) is None


def test_compare_reports_a_changed_outcome() -> None:
    content = evaluation.dump(JP)
    for question in content["viewpoints"][0]["questions"]:
        for choice in question["choices"]:
            choice["high"] = False
    answers = {**answers_for(JP, False), **choose(users="public")}
    change = evaluation.compare(evaluation.screen(JP, answers, {}), evaluation.parse(content), answers, {})
    assert change == {
        "before": {"likely_high_risk": True, "level": "I"},
        "after": {"likely_high_risk": False, "level": "I"},
    }


def test_compare_reports_questions_a_new_version_adds_as_unanswered() -> None:
    content = evaluation.dump(JP)
    extra = copy.deepcopy(content["viewpoints"][0]["questions"][0])
    extra["id"] = "users_abroad"
    content["viewpoints"][0]["questions"].append(extra)
    answers = answers_for(JP, False)
    change = evaluation.compare(evaluation.screen(JP, answers, {}), evaluation.parse(content), answers, {})
    assert change is not None and change["after"] == {"incomplete": ["users_abroad"]}
