"""ProjectRisk: the per-project risk state, its commands, and the staleness, expiry and pending rules."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError

from services.risk.contract import add_months
from services.risk.domain import (
    Classification,
    Decision,
    ProjectRisk,
    RiskRuleViolated,
    RiskStatus,
)
from tests.unit.memory import (
    BOARD,
    CAIO,
    PLANNER,
    InMemoryLog,
    assert_replay_equals_live,
    assert_stale_copy_refused,
    meta,
)

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
SYSTEM = meta("aigov-risk", "system")
PROJECT = UUID("00000000-0000-4000-8000-000000000001")


@pytest.fixture
def log() -> InMemoryLog:
    return InMemoryLog("risk")


def due() -> ProjectRisk:
    return ProjectRisk(project_id=PROJECT, ministry="MIC", cause="project registered", meta=SYSTEM)


def classified(classification: Classification, expires_at: datetime = NOW + timedelta(days=365)) -> ProjectRisk:
    risk = due()
    assessment_id = uuid.uuid4()
    risk.start_assessment(assessment_id, PLANNER)
    risk.record_classification(assessment_id, classification, expires_at, 7, CAIO)
    return risk


def high_with(board_status: str) -> ProjectRisk:
    """A high-risk project whose Board workflow has reached ``board_status``."""
    risk = classified(Classification.high)
    submission = uuid.uuid4()
    steps = {
        "submission_required": [],
        "awaiting_advice": ["submit"],
        "awaiting_decision": ["submit", "advise"],
        "decided": ["submit", "advise", Decision.proceed],
        "resubmission_required": ["submit", "advise", Decision.revise_and_resubmit],
    }[board_status]
    for step in steps:
        if step == "submit":
            risk.board_submitted(submission, risk.classified_assessment_id, CAIO)
        elif step == "advise":
            risk.advice_received(
                assessment_id=risk.classified_assessment_id,
                submission_id=str(submission),
                opinion="no_concerns",
                meta=BOARD,
            )
        else:
            risk.decision_recorded(
                assessment_id=risk.classified_assessment_id,
                submission_id=str(submission),
                decision=step.value,
                meta=CAIO,
            )
    assert risk.board_status == board_status
    return risk


# -- becoming due (creation) ---------------------------------------------------------------------------------


def test_a_registered_project_has_its_risk_evaluation_due(log: InMemoryLog) -> None:
    risk = due()
    assert risk.id == ProjectRisk.create_id(PROJECT)
    assert (risk.status, risk.classification, risk.board_status) == (RiskStatus.due, None, "not_required")
    assert risk.pending(NOW) == [{"what": "risk evaluation", "role": "planner", "ministry": "MIC"}]
    assert_replay_equals_live(log, risk)


def test_a_project_becomes_due_only_once(log: InMemoryLog) -> None:
    log.save(due())
    with pytest.raises(IntegrityError):
        log.save(ProjectRisk(project_id=PROJECT, ministry="MIC", cause="registered again", meta=SYSTEM))
    assert log.types() == ["RiskEvaluationBecameDue"]


# -- start_assessment ----------------------------------------------------------------------------------------


def test_starting_an_assessment_puts_the_evaluation_in_progress(log: InMemoryLog) -> None:
    risk = due()
    assessment_id = uuid.uuid4()
    risk.start_assessment(assessment_id, PLANNER)
    assert risk.status is RiskStatus.in_progress
    assert risk.current_assessment_id == str(assessment_id) and risk.assessment_ids == [str(assessment_id)]
    assert_replay_equals_live(log, risk)


def test_a_second_assessment_while_one_is_open_is_refused() -> None:
    risk = due()
    first = uuid.uuid4()
    risk.start_assessment(first, PLANNER)
    risk.collect_events()
    with pytest.raises(RiskRuleViolated, match=str(first)):
        risk.start_assessment(uuid.uuid4(), PLANNER)
    assert risk.collect_events() == [] and risk.assessment_ids == [str(first)]


def test_a_reevaluation_starts_without_leaving_the_current_classification() -> None:
    risk = classified(Classification.not_high)
    risk.start_assessment(uuid.uuid4(), PLANNER)
    assert risk.status is RiskStatus.classified_not_high and len(risk.assessment_ids) == 2


# -- record_classification -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("classification", "status", "board_status"),
    [
        (Classification.high, RiskStatus.classified_high, "submission_required"),
        (Classification.not_high, RiskStatus.classified_not_high, "not_required"),
    ],
)
def test_a_classification_decides_the_status_the_board_status_and_the_expiry(
    classification: Classification, status: RiskStatus, board_status: str, log: InMemoryLog
) -> None:
    risk = classified(classification, NOW + timedelta(days=365))
    assert (risk.status, risk.classification, risk.board_status) == (status, classification, board_status)
    assert risk.current_assessment_id is None and risk.classified_assessment_id == risk.assessment_ids[0]
    assert risk.expires_at == NOW + timedelta(days=365) == risk.reevaluation_due_at()
    assert risk.pending_events[-1].registry_position == 7
    assert_replay_equals_live(log, risk)


def test_a_new_classification_restarts_the_board_workflow() -> None:
    risk = high_with("decided")
    assessment_id = uuid.uuid4()
    risk.start_assessment(assessment_id, PLANNER)
    risk.record_classification(assessment_id, Classification.high, NOW + timedelta(days=365), 9, CAIO)
    assert (risk.board_status, risk.submission_id, risk.decision) == ("submission_required", None, None)


def test_a_classification_on_a_stale_copy_is_refused(log: InMemoryLog) -> None:
    """The domain does not refuse a classification (that only the open assessment is classified is checked by the
    application); what refuses here is the concurrent-change rule."""
    risk = due()
    assessment_id = uuid.uuid4()
    risk.start_assessment(assessment_id, PLANNER)
    assert_stale_copy_refused(
        log, risk, lambda copy: copy.record_classification(assessment_id, Classification.high, NOW, 1, CAIO)
    )


# -- staleness: material_change ------------------------------------------------------------------------------


@pytest.mark.parametrize("classification", list(Classification))
def test_a_material_change_makes_a_decided_classification_stale(
    classification: Classification, log: InMemoryLog
) -> None:
    risk = classified(classification)
    assert risk.material_change("material amendment of users", SYSTEM) is True
    assert risk.status is RiskStatus.stale and risk.stale_causes == ["material amendment of users"]
    assert type(risk.pending_events[-1]).__name__ == "ClassificationBecameStale"
    assert risk.pending(NOW) == [{"what": "re-evaluation", "role": "planner", "ministry": "MIC"}]
    assert risk.reevaluation_due_at() is None and not risk.is_expired(NOW + timedelta(days=9999))
    assert_replay_equals_live(log, risk)


@pytest.mark.parametrize("state", ["due", "in_progress", "stale"])
def test_a_material_change_without_a_decided_classification_records_nothing(state: str) -> None:
    risk = due()
    if state == "in_progress":
        risk.start_assessment(uuid.uuid4(), PLANNER)
    if state == "stale":
        risk = classified(Classification.high)
        risk.material_change("first change", SYSTEM)
    risk.collect_events()
    before = risk.status
    assert risk.material_change("another change", SYSTEM) is False
    assert risk.collect_events() == [] and risk.status is before


def test_a_material_change_on_a_stale_copy_is_refused(log: InMemoryLog) -> None:
    assert_stale_copy_refused(log, classified(Classification.high), lambda copy: copy.material_change("x", SYSTEM))


# -- staleness: incident_noted -------------------------------------------------------------------------------


@pytest.mark.parametrize("severity", ["high", "critical"])
def test_a_severe_incident_makes_a_decided_classification_stale(severity: str, log: InMemoryLog) -> None:
    risk = classified(Classification.not_high)
    risk.incident_noted(incident_id="i-1", severity=severity, meta=CAIO)
    assert risk.status is RiskStatus.stale and risk.stale_causes == ["severe incident i-1"]
    assert risk.incident_ids == ["i-1"] and risk.severe_incidents == ["i-1"]
    assert_replay_equals_live(log, risk)


@pytest.mark.parametrize("severity", ["low", "medium"])
def test_a_minor_incident_is_noted_without_touching_the_classification(severity: str) -> None:
    risk = classified(Classification.high)
    risk.incident_noted(incident_id="i-1", severity=severity, meta=CAIO)
    assert risk.status is RiskStatus.classified_high and risk.stale_causes == []
    assert risk.incident_ids == ["i-1"] and risk.severe_incidents == []


def test_a_severe_incident_before_any_classification_leaves_the_evaluation_due() -> None:
    risk = due()
    risk.incident_noted(incident_id="i-1", severity="critical", meta=CAIO)
    assert risk.status is RiskStatus.due and risk.severe_incidents == ["i-1"] and risk.stale_causes == []


def test_an_unknown_severity_is_refused() -> None:
    with pytest.raises(ValueError):
        due().incident_noted(incident_id="i-1", severity="catastrophic", meta=CAIO)


def test_noting_an_incident_on_a_stale_copy_is_refused(log: InMemoryLog) -> None:
    assert_stale_copy_refused(
        log, due(), lambda copy: copy.incident_noted(incident_id="i-1", severity="low", meta=CAIO)
    )


# -- expiry --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("months", "days"), [(1, 30), (6, 183), (12, 365), (24, 730)])
def test_validity_months_are_counted_in_average_months(months: int, days: int) -> None:
    assert add_months(NOW, months) == NOW + timedelta(days=days)


def test_a_classification_expires_at_its_expiry_instant_and_then_shows_a_reevaluation_due() -> None:
    expires_at = add_months(NOW, 12)
    risk = classified(Classification.not_high, expires_at)
    assert not risk.is_expired(expires_at - timedelta(microseconds=1)) and risk.pending(NOW) == []
    assert risk.is_expired(expires_at)
    assert risk.pending(expires_at) == [{"what": "re-evaluation", "role": "planner", "ministry": "MIC"}]
    assert risk.status is RiskStatus.classified_not_high  # expiry shows the re-evaluation; it does not restate


def test_nothing_expires_before_a_classification() -> None:
    risk = due()
    assert risk.reevaluation_due_at() is None and not risk.is_expired(NOW + timedelta(days=10_000))


# -- the Board part of ProjectRisk ---------------------------------------------------------------------------


def test_submitting_to_the_board_awaits_its_advice(log: InMemoryLog) -> None:
    risk = classified(Classification.high)
    submission = uuid.uuid4()
    risk.board_submitted(submission, risk.classified_assessment_id, CAIO)
    assert (risk.board_status, risk.submission_id, risk.decision) == ("awaiting_advice", str(submission), None)
    assert_replay_equals_live(log, risk)


@pytest.mark.parametrize("make", [due, lambda: classified(Classification.not_high)])
def test_only_a_project_classified_high_is_submitted_to_the_board(make: Callable[[], ProjectRisk]) -> None:
    risk = make()
    risk.collect_events()
    with pytest.raises(RiskRuleViolated, match="classification is high|no current classification"):
        risk.board_submitted(uuid.uuid4(), risk.classified_assessment_id, CAIO)
    assert risk.collect_events() == [] and risk.submission_id is None


def test_a_high_risk_project_made_stale_is_not_submitted_until_reclassified() -> None:
    risk = classified(Classification.high)
    risk.material_change("material amendment of users", SYSTEM)
    with pytest.raises(RiskRuleViolated):
        risk.board_submitted(uuid.uuid4(), risk.classified_assessment_id, CAIO)


@pytest.mark.parametrize("board_status", ["awaiting_advice", "awaiting_decision"])
def test_a_second_submission_while_one_is_with_the_board_is_refused(board_status: str) -> None:
    risk = high_with(board_status)
    submitted = risk.submission_id
    risk.collect_events()
    with pytest.raises(RiskRuleViolated, match="already with the Board"):
        risk.board_submitted(uuid.uuid4(), risk.classified_assessment_id, CAIO)
    assert risk.collect_events() == [] and risk.submission_id == submitted and risk.board_status == board_status


@pytest.mark.parametrize("board_status", ["resubmission_required", "submission_required"])
def test_a_project_may_be_submitted_again_once_nothing_is_with_the_board(board_status: str) -> None:
    risk = high_with(board_status)
    risk.board_submitted(uuid.uuid4(), risk.classified_assessment_id, CAIO)
    assert risk.board_status == "awaiting_advice"


def test_the_boards_advice_awaits_the_ministrys_decision(log: InMemoryLog) -> None:
    risk = high_with("awaiting_decision")
    assert type(risk.pending_events[-1]).__name__ == "AdvisoryBoardAdviceReceived"
    assert_replay_equals_live(log, risk)


def test_advice_received_on_a_stale_copy_is_refused(log: InMemoryLog) -> None:
    risk = high_with("awaiting_advice")
    sid = risk.submission_id
    assert_stale_copy_refused(
        log,
        risk,
        lambda copy: copy.advice_received(
            assessment_id=copy.classified_assessment_id, submission_id=sid, opinion="no_concerns", meta=BOARD
        ),
    )


@pytest.mark.parametrize(
    ("decision", "board_status"),
    [
        (Decision.proceed, "decided"),
        (Decision.proceed_with_conditions, "decided"),
        (Decision.discontinue, "decided"),
        (Decision.revise_and_resubmit, "resubmission_required"),
    ],
)
def test_the_decision_closes_the_board_workflow_or_asks_for_a_resubmission(
    decision: Decision, board_status: str, log: InMemoryLog
) -> None:
    risk = high_with("awaiting_decision")
    risk.decision_recorded(
        assessment_id=risk.classified_assessment_id,
        submission_id=risk.submission_id,
        decision=decision.value,
        meta=CAIO,
    )
    assert (risk.board_status, risk.decision) == (board_status, decision)
    assert_replay_equals_live(log, risk)


def test_an_unknown_decision_is_refused() -> None:
    risk = high_with("awaiting_decision")
    with pytest.raises(ValueError):
        risk.decision_recorded(
            assessment_id=risk.classified_assessment_id, submission_id=risk.submission_id, decision="maybe", meta=CAIO
        )


def test_a_decision_recorded_on_a_stale_copy_is_refused(log: InMemoryLog) -> None:
    risk = high_with("awaiting_decision")
    sid = risk.submission_id
    assert_stale_copy_refused(
        log,
        risk,
        lambda copy: copy.decision_recorded(
            assessment_id=copy.classified_assessment_id, submission_id=sid, decision="proceed", meta=CAIO
        ),
    )


# -- what is pending, and on whom ----------------------------------------------------------------------------


def open_assessment(risk: ProjectRisk) -> ProjectRisk:
    risk.start_assessment(UUID("00000000-0000-4000-8000-0000000000aa"), PLANNER)
    return risk


ANSWERS = {
    "what": "answers and submission of assessment 00000000-0000-4000-8000-0000000000aa",
    "role": "planner",
    "ministry": "MIC",
}
SUBMIT = {"what": "Advisory Board submission", "role": "caio", "ministry": "MIC"}
ADVICE = {"what": "Advisory Board advice", "role": "board_member", "ministry": None}
DECIDE = {"what": "ministry decision after the Board's advice", "role": "caio", "ministry": "MIC"}
REEVALUATE = {"what": "re-evaluation", "role": "planner", "ministry": "MIC"}


@pytest.mark.parametrize(
    ("make", "waiting"),
    [
        (lambda: open_assessment(due()), [ANSWERS]),
        (lambda: classified(Classification.not_high), []),
        (lambda: high_with("submission_required"), [SUBMIT]),
        (lambda: high_with("awaiting_advice"), [ADVICE]),
        (lambda: high_with("awaiting_decision"), [DECIDE]),
        (lambda: high_with("resubmission_required"), [SUBMIT]),
        (lambda: high_with("decided"), []),
        (lambda: open_assessment(high_with("awaiting_advice")), [ANSWERS, ADVICE]),
        (lambda: classified(Classification.high, NOW - timedelta(days=1)), [REEVALUATE, SUBMIT]),
    ],
    ids=[
        "assessment-open",
        "not-high",
        "high-to-submit",
        "with-the-board",
        "to-decide",
        "to-resubmit",
        "decided",
        "reevaluating-while-with-the-board",
        "expired-high",
    ],
)
def test_what_is_pending_and_on_whom(make: Callable[[], ProjectRisk], waiting: list[dict]) -> None:
    assert make().pending(NOW) == waiting


def test_a_stale_high_risk_project_waits_only_for_its_reevaluation() -> None:
    risk = high_with("awaiting_advice")
    risk.incident_noted(incident_id="i-9", severity="critical", meta=CAIO)
    assert risk.pending(NOW) == [REEVALUATE]
