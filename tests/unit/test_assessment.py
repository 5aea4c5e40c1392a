"""Assessment: open, record_answers, submit, classify (with the override rule), on in-memory persistence."""

from __future__ import annotations

from uuid import UUID

import pytest

from services.risk import evaluation
from services.risk.domain import Assessment, Classification, Incomplete, RiskRuleViolated
from tests.unit.memory import (
    CAIO,
    JP,
    PLANNER,
    InMemoryLog,
    answers_for,
    assert_created_once,
    assert_replay_equals_live,
    assert_stale_copy_refused,
)

PROJECT = UUID("00000000-0000-4000-8000-000000000001")


@pytest.fixture
def log() -> InMemoryLog:
    return InMemoryLog("risk")


def opened() -> Assessment:
    return Assessment(
        project_id=PROJECT,
        ministry="MIC",
        ruleset_id=JP.id,
        ruleset_version=JP.version,
        ruleset_hash=evaluation.content_hash(JP),
        meta=PLANNER,
    )


def submitted(high: bool) -> Assessment:
    assessment = opened()
    assessment.record_answers(answers_for(JP, high), {}, PLANNER)
    assessment.submit(evaluation.screen(JP, assessment.answers, {}), PLANNER)
    return assessment


# -- open ----------------------------------------------------------------------------------------------------


def test_an_opened_assessment_is_a_draft_pinned_to_its_ruleset_version(log: InMemoryLog) -> None:
    assessment = opened()
    assert assessment.state == "draft"
    assert (assessment.ruleset_id, assessment.ruleset_version) == ("jp-genai-2.0", 1)
    assert assessment.ruleset_hash == evaluation.content_hash(JP) and len(assessment.ruleset_hash) == 64
    assert_replay_equals_live(log, assessment)


def test_an_assessment_is_opened_only_once(log: InMemoryLog) -> None:
    """The domain has no rule refusing an assessment's opening (an unknown project or ruleset is the
    application's refusal); the log refuses recording the same opening twice."""
    assert_created_once(log, opened)


# -- record_answers ------------------------------------------------------------------------------------------


def test_answers_accumulate_until_submission(log: InMemoryLog) -> None:
    assessment = opened()
    assessment.record_answers({"users": {"choice": "public"}}, {}, PLANNER)
    assessment.record_answers({"users": {"choice": "staff_only"}, "staff_judgment": {"choice": "none"}}, {}, PLANNER)
    assert assessment.answers == {"users": {"choice": "staff_only"}, "staff_judgment": {"choice": "none"}}
    assert assessment.state == "draft"
    assert_replay_equals_live(log, assessment)


def test_answers_of_a_submitted_assessment_are_refused_and_unchanged() -> None:
    assessment = submitted(high=False)
    before = dict(assessment.answers)
    assessment.collect_events()
    with pytest.raises(RiskRuleViolated, match="Open a new assessment"):
        assessment.record_answers({"users": {"choice": "public"}}, {}, PLANNER)
    assert assessment.answers == before and assessment.collect_events() == []


# -- submit --------------------------------------------------------------------------------------------------


def test_submitting_records_the_screening(log: InMemoryLog) -> None:
    assessment = submitted(high=True)
    assert assessment.state == "submitted" and assessment.screening["likely_high_risk"] is True
    assert assessment.screening["ruleset_id"] == "jp-genai-2.0"
    assert_replay_equals_live(log, assessment)


def test_submitting_twice_is_refused() -> None:
    assessment = submitted(high=False)
    screening = assessment.screening
    with pytest.raises(RiskRuleViolated, match="already been submitted"):
        assessment.submit({"likely_high_risk": True}, PLANNER)
    assert assessment.screening == screening


# -- classify ------------------------------------------------------------------------------------------------


def test_the_caio_classifies_a_submitted_assessment(log: InMemoryLog) -> None:
    assessment = submitted(high=True)
    assessment.classify(Classification.high, "public users", None, CAIO)
    assert assessment.state == "classified"
    assert assessment.classification == {
        "classification": "high",
        "reasons": "public users",
        "override": False,
        "override_justification": None,
        "by": "carol",
    }
    assert_replay_equals_live(log, assessment)


def test_classifying_against_a_likely_high_screening_records_the_override_and_its_justification() -> None:
    assessment = submitted(high=True)
    assessment.classify(Classification.not_high, "reasons", "internal pilot, every output reviewed", CAIO)
    assert assessment.classification["override"] is True
    assert assessment.classification["override_justification"] == "internal pilot, every output reviewed"


def test_a_justification_is_dropped_when_nothing_is_overridden() -> None:
    assessment = submitted(high=False)
    assessment.classify(Classification.not_high, "reasons", "not needed", CAIO)
    assert (
        assessment.classification["override"] is False and assessment.classification["override_justification"] is None
    )


@pytest.mark.parametrize("justification", [None, "", "   "])
def test_an_override_without_a_justification_is_refused(justification: str | None) -> None:
    assessment = submitted(high=True)
    assessment.collect_events()
    with pytest.raises(Incomplete) as refused:
        assessment.classify(Classification.not_high, "reasons", justification, CAIO)
    assert refused.value.missing == ["override_justification"]
    assert assessment.classification is None and assessment.collect_events() == []


def test_classifying_before_submission_is_refused() -> None:
    with pytest.raises(RiskRuleViolated, match="Submit the assessment"):
        opened().classify(Classification.high, "reasons", None, CAIO)


def test_classifying_twice_is_refused() -> None:
    assessment = submitted(high=True)
    assessment.classify(Classification.high, "reasons", None, CAIO)
    with pytest.raises(RiskRuleViolated, match="already classified"):
        assessment.classify(Classification.high, "again", None, CAIO)
    assert assessment.classification["reasons"] == "reasons"


def test_two_concurrent_classifications_record_only_the_first(log: InMemoryLog) -> None:
    assert_stale_copy_refused(
        log, submitted(high=True), lambda copy: copy.classify(Classification.high, "reasons", None, CAIO)
    )
