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
    BoardOpinion,
    BoardReview,
    BoardStatus,
    BoardSubmission,
    Classification,
    Decision,
    ProjectRisk,
    RiskRuleViolated,
    RiskStatus,
    Superseded,
)
from tests.unit.memory import (
    BOARD,
    CAIO,
    PLANNER,
    InMemoryLog,
    assert_replay_equals_live,
    assert_stale_copy_refused,
    complete_submission,
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


def submission_on(risk: ProjectRisk) -> BoardSubmission:
    """A complete draft resting on the project's classified assessment."""
    content = {**complete_submission(), "assessment_id": risk.classified_assessment_id}
    return BoardSubmission(project_id=PROJECT, ministry="MIC", content=content, meta=PLANNER)


def steps_to(submission: BoardSubmission, board_status: str) -> BoardSubmission:
    """Take ``submission`` through the Board's steps up to ``board_status``."""
    steps = {
        "submission_required": [],
        "awaiting_advice": ["submit"],
        "awaiting_decision": ["submit", "advise"],
        "decided": ["submit", "advise", Decision.proceed],
        "resubmission_required": ["submit", "advise", Decision.revise_and_resubmit],
    }[board_status]
    for step in steps:
        if step == "submit":
            submission.submit(CAIO)
        elif step == "advise":
            submission.record_advice(BoardOpinion.no_concerns, "advice", [], BOARD)
        else:
            submission.record_decision(step, "decided", [], CAIO)
    return submission


def high_with(board_status: str) -> tuple[ProjectRisk, list[BoardSubmission]]:
    """A high-risk project and its submissions, the Board review having reached ``board_status``."""
    risk = classified(Classification.high)
    submissions = [] if board_status == "submission_required" else [steps_to(submission_on(risk), board_status)]
    assert risk.board_review(submissions).status == board_status
    return risk, submissions


# -- becoming due (creation) ---------------------------------------------------------------------------------


def test_a_registered_project_has_its_risk_evaluation_due(log: InMemoryLog) -> None:
    risk = due()
    assert risk.id == ProjectRisk.create_id(PROJECT)
    assert (risk.status, risk.classification, risk.board_review([]).status) == (RiskStatus.due, None, "not_required")
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
    assert (risk.status, risk.classification, risk.board_review([]).status) == (status, classification, board_status)
    assert risk.current_assessment_id is None and risk.classified_assessment_id == risk.assessment_ids[0]
    assert risk.expires_at == NOW + timedelta(days=365) == risk.reevaluation_due_at()
    assert risk.pending_events[-1].registry_position == 7
    assert_replay_equals_live(log, risk)


def test_a_new_classification_restarts_the_board_workflow() -> None:
    risk, submissions = high_with("decided")
    assessment_id = uuid.uuid4()
    risk.start_assessment(assessment_id, PLANNER)
    risk.record_classification(assessment_id, Classification.high, NOW + timedelta(days=365), 9, CAIO)
    assert risk.board_review(submissions) == BoardReview(BoardStatus.submission_required)


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


# -- staleness: incident_recorded -----------------------------------------------------------------------------


@pytest.mark.parametrize("severity", ["high", "critical"])
def test_a_severe_incident_makes_a_decided_classification_stale(severity: str, log: InMemoryLog) -> None:
    risk = classified(Classification.not_high)
    incident = uuid.uuid4()
    assert risk.incident_recorded(incident, severity, CAIO) is True
    assert risk.status is RiskStatus.stale and risk.stale_causes == [f"severe incident {incident}"]
    assert type(risk.pending_events[-1]).__name__ == "ClassificationBecameStale"
    assert_replay_equals_live(log, risk)


@pytest.mark.parametrize("severity", ["low", "medium"])
def test_a_minor_incident_records_nothing_on_the_project(severity: str) -> None:
    risk = classified(Classification.high)
    risk.collect_events()
    assert risk.incident_recorded(uuid.uuid4(), severity, CAIO) is False
    assert risk.collect_events() == [] and risk.status is RiskStatus.classified_high and risk.stale_causes == []


@pytest.mark.parametrize("state", ["due", "stale"])
def test_a_severe_incident_without_a_decided_classification_records_nothing_on_the_project(state: str) -> None:
    risk = due()
    if state == "stale":
        risk = classified(Classification.high)
        risk.material_change("first change", SYSTEM)
    risk.collect_events()
    before = (risk.status, list(risk.stale_causes))
    assert risk.incident_recorded(uuid.uuid4(), "critical", CAIO) is False
    assert risk.collect_events() == [] and (risk.status, risk.stale_causes) == before


def test_an_unknown_severity_is_refused() -> None:
    with pytest.raises(ValueError):
        classified(Classification.high).incident_recorded(uuid.uuid4(), "catastrophic", CAIO)


def test_staleness_from_a_severe_incident_on_a_stale_copy_is_refused(log: InMemoryLog) -> None:
    assert_stale_copy_refused(
        log, classified(Classification.high), lambda copy: copy.incident_recorded(uuid.uuid4(), "critical", CAIO)
    )


def test_an_incident_noted_in_an_old_log_still_makes_the_classification_stale_on_replay(log: InMemoryLog) -> None:
    """Logs written before each fact was named once hold ``IncidentNoted`` on the project's risk aggregate: the
    stored events stay, and replaying them gives the staleness they recorded."""
    risk = classified(Classification.high)
    risk._legacy_incident_noted(incident_id="i-1", severity="critical", meta=CAIO)
    assert risk.status is RiskStatus.stale and risk.stale_causes == ["severe incident i-1"]
    assert_replay_equals_live(log, risk)


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


# -- the Board review: derived from the submissions, checked by ProjectRisk ------------------------------------


def test_a_submitted_draft_puts_the_review_in_the_boards_hands() -> None:
    risk, submissions = high_with("awaiting_advice")
    assert risk.board_review(submissions) == BoardReview(BoardStatus.awaiting_advice, str(submissions[0].id))


def test_the_latest_submission_on_the_classification_is_the_one_with_the_board() -> None:
    risk, submissions = high_with("resubmission_required")
    again = steps_to(submission_on(risk), "awaiting_advice")
    assert risk.board_review([again, *submissions]) == BoardReview(BoardStatus.awaiting_advice, str(again.id))


def test_drafts_and_submissions_on_an_earlier_classification_do_not_count() -> None:
    risk, submissions = high_with("decided")
    draft = submission_on(risk)
    assessment_id = uuid.uuid4()
    risk.start_assessment(assessment_id, PLANNER)
    risk.record_classification(assessment_id, Classification.high, NOW + timedelta(days=365), 9, CAIO)
    assert risk.board_review([draft, *submissions]).status is BoardStatus.submission_required


@pytest.mark.parametrize(
    ("decision", "board_status"),
    [
        (Decision.proceed, "decided"),
        (Decision.proceed_with_conditions, "decided"),
        (Decision.discontinue, "decided"),
        (Decision.revise_and_resubmit, "resubmission_required"),
    ],
)
def test_the_decision_closes_the_review_or_asks_for_a_resubmission(decision: Decision, board_status: str) -> None:
    risk, submissions = high_with("awaiting_decision")
    submissions[0].record_decision(decision, "decided", [], CAIO)
    review = risk.board_review(submissions)
    assert (review.status, review.decision, review.submission_id) == (board_status, decision, str(submissions[0].id))


@pytest.mark.parametrize("make", [due, lambda: classified(Classification.not_high)])
def test_only_a_project_classified_high_is_submitted_to_the_board(make: Callable[[], ProjectRisk]) -> None:
    risk = make()
    draft = BoardSubmission(project_id=PROJECT, ministry="MIC", content=complete_submission(), meta=PLANNER)
    if risk.classified_assessment_id:
        draft = submission_on(risk)
    with pytest.raises(RiskRuleViolated, match="classification is high|no current classification"):
        risk.require_submittable(draft, risk.board_review([]))


def test_a_high_risk_project_made_stale_is_not_submitted_until_reclassified() -> None:
    risk = classified(Classification.high)
    draft = submission_on(risk)
    risk.material_change("material amendment of users", SYSTEM)
    with pytest.raises(Superseded):
        risk.require_submittable(draft, risk.board_review([]))


@pytest.mark.parametrize("board_status", ["awaiting_advice", "awaiting_decision"])
def test_a_second_submission_while_one_is_with_the_board_is_refused(board_status: str) -> None:
    risk, submissions = high_with(board_status)
    with pytest.raises(RiskRuleViolated, match=f"{submissions[0].id} is already with the Board"):
        risk.require_submittable(submission_on(risk), risk.board_review(submissions))


@pytest.mark.parametrize("board_status", ["resubmission_required", "submission_required"])
def test_a_project_may_be_submitted_again_once_nothing_is_with_the_board(board_status: str) -> None:
    risk, submissions = high_with(board_status)
    risk.require_submittable(submission_on(risk), risk.board_review(submissions))


def test_advice_and_decisions_only_on_the_submission_with_the_board() -> None:
    risk, submissions = high_with("resubmission_required")
    again = steps_to(submission_on(risk), "awaiting_advice")
    review = risk.board_review([again, *submissions])
    risk.require_current_submission(again, review)
    with pytest.raises(Superseded, match=f"that is {again.id}"):
        risk.require_current_submission(submissions[0], review)


def test_advice_on_a_submission_whose_classification_is_superseded_is_refused() -> None:
    risk, submissions = high_with("awaiting_advice")
    risk.material_change("material amendment of users", SYSTEM)
    with pytest.raises(Superseded, match="not current"):
        risk.require_current_submission(submissions[0], risk.board_review(submissions))


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


def with_review(board_status: str, open_one: bool = False) -> tuple[ProjectRisk, BoardReview]:
    risk, submissions = high_with(board_status)
    if open_one:
        open_assessment(risk)
    return risk, risk.board_review(submissions)


@pytest.mark.parametrize(
    ("make", "waiting"),
    [
        (lambda: (open_assessment(due()), None), [ANSWERS]),
        (lambda: (classified(Classification.not_high), None), []),
        (lambda: with_review("submission_required"), [SUBMIT]),
        (lambda: with_review("awaiting_advice"), [ADVICE]),
        (lambda: with_review("awaiting_decision"), [DECIDE]),
        (lambda: with_review("resubmission_required"), [SUBMIT]),
        (lambda: with_review("decided"), []),
        (lambda: with_review("awaiting_advice", open_one=True), [ANSWERS, ADVICE]),
        (lambda: (classified(Classification.high, NOW - timedelta(days=1)), None), [REEVALUATE, SUBMIT]),
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
def test_what_is_pending_and_on_whom(
    make: Callable[[], tuple[ProjectRisk, BoardReview | None]], waiting: list[dict]
) -> None:
    risk, review = make()
    assert risk.pending(NOW, review=review) == waiting


def test_a_stale_high_risk_project_waits_only_for_its_reevaluation() -> None:
    risk, review = with_review("awaiting_advice")
    risk.incident_recorded(uuid.uuid4(), "critical", CAIO)
    assert risk.pending(NOW, review=review) == [REEVALUATE]
