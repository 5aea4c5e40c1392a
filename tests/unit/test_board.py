"""BoardSubmission (draft, submit, record_advice, record_decision), the completeness rule, and the Board-status
state machine as ProjectRisk, the submissions and the reporting projection each keep it."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from services.reporting.projection import Projection
from services.risk.domain import (
    BoardOpinion,
    BoardReview,
    BoardStatus,
    BoardSubmission,
    Classification,
    Decision,
    Incomplete,
    ProjectRisk,
    RiskRuleViolated,
    RiskStatus,
    Superseded,
    missing_submission_parts,
)
from tests.unit.memory import (
    BOARD,
    CAIO,
    PLANNER,
    Government,
    InMemoryLog,
    assert_created_once,
    assert_replay_equals_live,
    assert_stale_copy_refused,
    complete_submission,
    meta,
    state_of,
)

PROJECT = UUID("00000000-0000-4000-8000-000000000001")
CONDITIONS = ["publish the evaluation", "review monthly"]


@pytest.fixture
def log() -> InMemoryLog:
    return InMemoryLog("risk")


def drafted(content: dict[str, Any] | None = None) -> BoardSubmission:
    return BoardSubmission(
        project_id=PROJECT, ministry="MIC", content=complete_submission() if content is None else content, meta=PLANNER
    )


def at(status: str, conditions: list[str] = CONDITIONS) -> BoardSubmission:
    submission = drafted()
    if status in ("awaiting_advice", "awaiting_decision", "decided"):
        submission.submit(CAIO)
    if status in ("awaiting_decision", "decided"):
        opinion = BoardOpinion.advice_with_conditions if conditions else BoardOpinion.no_concerns
        submission.record_advice(opinion, "advice", conditions, BOARD)
    if status == "decided":
        responses = [{"condition": condition, "response": "accepted"} for condition in conditions]
        submission.record_decision(Decision.proceed_with_conditions, "go", responses, CAIO)
    assert submission.status == status
    return submission


# -- completeness ---------------------------------------------------------------------------------------------


def test_a_complete_submission_misses_nothing() -> None:
    assert missing_submission_parts(complete_submission()) == []


def test_an_empty_submission_misses_every_part() -> None:
    assert missing_submission_parts({}) == [
        "objectives",
        "expected_results",
        "assessment_id",
        "mitigation_measures",
        "quality_assurance",
        "supporting_information",
    ]


def test_missing_parts_inside_the_quality_plan_and_the_measures_are_named_by_path() -> None:
    content = copy.deepcopy(complete_submission())
    content["quality_assurance"]["monitoring"] = ""
    content["quality_assurance"]["metrics"].append({"name": "latency"})
    content["mitigation_measures"].append({"risk": "bias", "measure": "", "owner": "QA"})
    assert missing_submission_parts(content) == [
        "quality_assurance.monitoring",
        "quality_assurance.metrics[1].threshold",
        "mitigation_measures[1].measure",
        "mitigation_measures[1].status",
    ]


# -- draft ----------------------------------------------------------------------------------------------------


def test_a_drafted_submission_keeps_its_content_as_a_draft(log: InMemoryLog) -> None:
    submission = drafted({"objectives": "only this so far"})
    assert (submission.status, submission.advice, submission.decision, submission.submitted_at) == (
        "draft",
        None,
        None,
        None,
    )
    assert_replay_equals_live(log, submission)


def test_a_draft_is_recorded_only_once(log: InMemoryLog) -> None:
    """The domain has no rule refusing a draft (that it rests on an assessment of the project is the
    application's check); the log refuses recording the same draft twice."""
    assert_created_once(log, drafted)


# -- edit (drafts only) and resubmission -------------------------------------------------------------------------


def test_editing_a_draft_records_its_new_content(log: InMemoryLog) -> None:
    submission = drafted({"objectives": "first words"})
    submission.edit({"objectives": "better words", "expected_results": "fewer errors"}, PLANNER)
    assert submission.content == {"objectives": "better words", "expected_results": "fewer errors"}
    assert type(submission.pending_events[-1]).__name__ == "BoardSubmissionDraftEdited"
    assert_replay_equals_live(log, submission)


def test_an_edit_that_changes_nothing_records_nothing() -> None:
    submission = drafted({"objectives": "same"})
    submission.edit({"objectives": "same"}, PLANNER)
    assert submission.version == 1


@pytest.mark.parametrize("status", ["awaiting_advice", "awaiting_decision", "decided"])
def test_only_a_draft_is_edited(status: str) -> None:
    submission = at(status)
    before = (submission.version, submission.content)
    with pytest.raises(RiskRuleViolated, match="only a draft is edited"):
        submission.edit({"objectives": "too late"}, PLANNER)
    assert (submission.version, submission.content) == before


def test_two_edits_from_the_same_version_record_only_the_first(log: InMemoryLog) -> None:
    assert_stale_copy_refused(log, drafted(), lambda copy: copy.edit({"objectives": "mine"}, PLANNER))


def decided(decision: Decision) -> BoardSubmission:
    submission = at("awaiting_decision", conditions=[])
    submission.record_decision(decision, "see the advice", [], CAIO)
    return submission


def test_a_revision_names_the_submission_it_revises(log: InMemoryLog) -> None:
    previous = decided(Decision.revise_and_resubmit)
    revision = BoardSubmission.resubmission_of(previous, complete_submission(), PLANNER)
    assert (revision.previous_submission_id, revision.project_id, revision.ministry, revision.status) == (
        str(previous.id),
        previous.project_id,
        previous.ministry,
        "draft",
    )
    assert_replay_equals_live(log, revision)


@pytest.mark.parametrize("decision", [Decision.proceed, Decision.proceed_with_conditions, Decision.discontinue])
def test_only_a_revise_and_resubmit_decision_is_revised(decision: Decision) -> None:
    with pytest.raises(RiskRuleViolated, match="only such a submission is resubmitted"):
        BoardSubmission.resubmission_of(decided(decision), complete_submission(), PLANNER)


@pytest.mark.parametrize("status", ["draft", "awaiting_advice", "awaiting_decision"])
def test_an_undecided_submission_is_not_revised(status: str) -> None:
    with pytest.raises(RiskRuleViolated, match=f"it is {status}"):
        BoardSubmission.resubmission_of(at(status), complete_submission(), PLANNER)


def test_a_draft_recorded_before_revisions_existed_reads_as_a_first_submission(log: InMemoryLog) -> None:
    """Version 1 of ``BoardSubmissionDrafted`` had no ``previous_submission_id``: the stored event stays as it
    is, and both the aggregate (the library's upcaster) and the contract's readers lift it to version 2."""
    from services.risk.contract import RISK

    submission = drafted()
    log.save(submission)
    stored = log.events.recorder.select_events(submission.id)[0]  # type: ignore[attr-defined]
    state = log.mapper.transcoder.decode(stored.state)
    del state["previous_submission_id"]
    del state["class_version"]
    encoded = log.mapper.transcoder.encode(state)
    stored_v1 = type(stored)(stored.originator_id, stored.originator_version, stored.topic, encoded)
    replayed_v1 = log.mapper.to_domain_event(stored_v1)
    assert replayed_v1.previous_submission_id is None  # type: ignore[attr-defined]
    version, data = RISK.upcast("BoardSubmissionDrafted", 1, {"project_id": str(PROJECT), "content": {}})
    assert (version, data["previous_submission_id"]) == (2, None)


# -- submit ---------------------------------------------------------------------------------------------------


def test_a_complete_draft_is_submitted_and_awaits_the_boards_advice(log: InMemoryLog) -> None:
    submission = drafted()
    submission.submit(CAIO)
    assert submission.status == "awaiting_advice" and submission.submitted_at is not None
    assert type(submission.pending_events[-1]).__name__ == "BoardSubmissionSubmitted"
    assert_replay_equals_live(log, submission)


def test_a_submission_records_when_it_was_submitted() -> None:
    submission = drafted()
    submission.submit(CAIO)
    assert submission.submitted_at == submission.pending_events[-1].timestamp


def test_an_incomplete_draft_is_refused_listing_every_missing_part() -> None:
    content = complete_submission()
    del content["objectives"]
    content["quality_assurance"]["incident_response"] = None
    submission = drafted(content)
    submission.collect_events()
    with pytest.raises(Incomplete) as refused:
        submission.submit(CAIO)
    assert refused.value.missing == ["objectives", "quality_assurance.incident_response"]
    assert submission.status == "draft" and submission.collect_events() == []


@pytest.mark.parametrize("status", ["awaiting_advice", "awaiting_decision", "decided"])
def test_only_a_draft_is_submitted(status: str) -> None:
    submission = at(status)
    with pytest.raises(RiskRuleViolated, match="only a draft"):
        submission.submit(CAIO)
    assert submission.status == status


# -- record_advice ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opinion", "conditions"),
    [
        (BoardOpinion.no_concerns, []),
        (BoardOpinion.advice_with_conditions, CONDITIONS),
        (BoardOpinion.serious_concerns, []),
    ],
)
def test_the_boards_advice_is_recorded_and_awaits_the_decision(
    opinion: BoardOpinion, conditions: list[str], log: InMemoryLog
) -> None:
    submission = at("awaiting_advice")
    submission.record_advice(opinion, "text", conditions, BOARD)
    assert submission.status == "awaiting_decision"
    assert submission.advice == {"opinion": opinion.value, "text": "text", "conditions": conditions, "by": "bob"}
    assert_replay_equals_live(log, submission)


@pytest.mark.parametrize("status", ["draft", "awaiting_decision", "decided"])
def test_advice_is_refused_unless_the_submission_awaits_it(status: str) -> None:
    submission = at(status)
    advice = submission.advice
    with pytest.raises(RiskRuleViolated, match="only on a submitted item"):
        submission.record_advice(BoardOpinion.no_concerns, "text", [], BOARD)
    assert submission.status == status and submission.advice == advice


def test_advice_with_conditions_must_list_them() -> None:
    submission = at("awaiting_advice")
    with pytest.raises(Incomplete) as refused:
        submission.record_advice(BoardOpinion.advice_with_conditions, "text", [], BOARD)
    assert refused.value.missing == ["conditions"] and submission.status == "awaiting_advice"


# -- record_decision ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("decision", list(Decision))
def test_the_decision_answers_every_condition_and_closes_the_submission(decision: Decision, log: InMemoryLog) -> None:
    submission = at("awaiting_decision")
    responses = [{"condition": CONDITIONS[1], "response": "monthly"}, {"condition": CONDITIONS[0], "response": "ok"}]
    submission.record_decision(decision, "reasons", responses, CAIO)
    assert submission.status == "decided"
    assert submission.decision == {
        "decision": decision.value,
        "reasons": "reasons",
        "condition_responses": responses,
        "by": "carol",
    }
    assert_replay_equals_live(log, submission)


def test_a_decision_leaving_a_condition_unanswered_is_refused_naming_it() -> None:
    submission = at("awaiting_decision")
    with pytest.raises(Incomplete) as refused:
        submission.record_decision(Decision.proceed, "r", [{"condition": CONDITIONS[0], "response": "ok"}], CAIO)
    assert refused.value.missing == [f"condition_responses[{CONDITIONS[1]!r}]"]
    assert submission.status == "awaiting_decision" and submission.decision is None


def test_a_decision_answering_a_condition_the_board_did_not_set_is_refused() -> None:
    submission = at("awaiting_decision", conditions=[])
    with pytest.raises(Incomplete) as refused:
        submission.record_decision(Decision.proceed, "r", [{"condition": "invented", "response": "ok"}], CAIO)
    assert refused.value.missing == ["condition_responses['invented']"] and submission.decision is None


@pytest.mark.parametrize("status", ["draft", "awaiting_advice", "decided"])
def test_a_decision_is_refused_unless_the_boards_advice_awaits_it(status: str) -> None:
    submission = at(status)
    decision = submission.decision
    with pytest.raises(RiskRuleViolated, match="follows the Board's advice"):
        submission.record_decision(Decision.proceed, "r", [], CAIO)
    assert submission.status == status and submission.decision == decision


def test_two_concurrent_decisions_record_only_the_first(log: InMemoryLog) -> None:
    responses = [{"condition": condition, "response": "ok"} for condition in CONDITIONS]
    assert_stale_copy_refused(
        log, at("awaiting_decision"), lambda copy: copy.record_decision(Decision.proceed, "r", responses, CAIO)
    )


# -- the Board-status state machine ------------------------------------------------------------------------------

BOARD_STATUSES = {"not_required", "submission_required", "awaiting_advice", "awaiting_decision", "decided"}
BOARD_STATUSES |= {"resubmission_required"}
BOARD_ROLES = {
    "submission_required": "caio",
    "resubmission_required": "caio",
    "awaiting_advice": "board_member",
    "awaiting_decision": "caio",
}
NOW = datetime(2026, 12, 2, tzinfo=UTC)


class BoardWorkflow(RuleBasedStateMachine):
    """A project's risk state and its Board submissions driven by any sequence of commands, each applied as the
    risk application applies it (ProjectRisk checks the step against the Board review its submissions give, the
    submission records the step once; a refusal saves nothing).

    After every step: the Board review agrees with the classification and with the submission it names, what is
    pending names the one Board step that waits, replaying the log gives the live aggregates, and the reporting
    projection folded over the same log shows the same risk and Board status."""

    @initialize()
    def register(self) -> None:
        self.log = InMemoryLog("risk")
        self.risk = ProjectRisk(project_id=PROJECT, ministry="MIC", cause="registered", meta=meta("aigov-risk"))
        self.submissions: dict[str, BoardSubmission] = {}
        self.projection = Projection()
        self.save(self.risk)

    def save(self, *aggregates: Any) -> None:
        position = self.log.head()
        self.log.save(*aggregates)
        for envelope in self.log.envelopes(after=position):
            self.projection.apply(envelope)

    def refused(self, *aggregates: Any) -> None:
        """The command was refused: reload what it touched, as a new request would."""
        for aggregate in aggregates:
            aggregate.collect_events()
        self.risk = self.log.repository.get(self.risk.id)
        self.submissions = {key: self.log.repository.get(UUID(key)) for key in self.submissions}

    def review(self) -> BoardReview:
        return self.risk.board_review(self.submissions.values())

    @rule()
    def start_assessment(self) -> None:
        try:
            self.risk.start_assessment(uuid.uuid4(), PLANNER)
        except RiskRuleViolated:
            assert self.risk.current_assessment_id is not None
            return self.refused(self.risk)
        self.save(self.risk)

    @rule(classification=st.sampled_from(Classification))
    def evaluate(self, classification: Classification) -> None:
        """Classify the open assessment (opening one first when none is open)."""
        if self.risk.current_assessment_id is None:
            self.risk.start_assessment(uuid.uuid4(), PLANNER)
        assessment_id = UUID(self.risk.current_assessment_id)
        self.risk.record_classification(assessment_id, classification, NOW + timedelta(days=365), 0, CAIO)
        self.save(self.risk)

    @rule(complete=st.sampled_from([True, True, True, False]))
    def submit(self, complete: bool) -> None:
        content = complete_submission() if complete else {"objectives": "draft"}
        content["assessment_id"] = self.risk.classified_assessment_id
        submission = BoardSubmission(project_id=PROJECT, ministry="MIC", content=content, meta=PLANNER)
        try:
            self.risk.require_submittable(submission, self.review())
            submission.submit(CAIO)
        except (RiskRuleViolated, Incomplete):
            return self.refused(self.risk)
        self.submissions[str(submission.id)] = submission
        self.save(submission)

    def current(self) -> BoardSubmission | None:
        return self.submissions.get(self.review().submission_id or "")

    @precondition(lambda self: any(item.status == "awaiting_advice" for item in self.submissions.values()))
    @rule(data=st.data(), opinion=st.sampled_from(BoardOpinion))
    def advise(self, data: st.DataObject, opinion: BoardOpinion) -> None:
        """Advice on any submission awaiting it: refused unless it is the current classification's."""
        waiting = [key for key, item in self.submissions.items() if item.status == "awaiting_advice"]  # drafted order
        submission = self.submissions[data.draw(st.sampled_from(waiting))]
        current = self.current() is submission and self.risk.rests_on_current(submission.assessment_id)
        conditions = CONDITIONS if opinion is BoardOpinion.advice_with_conditions else []
        try:
            self.risk.require_current_submission(submission, self.review())
        except Superseded:
            assert not current, "advice on the submission of the current classification was refused"
            return self.refused(submission, self.risk)
        assert current, "advice on a superseded submission was accepted"
        submission.record_advice(opinion, "advice", conditions, BOARD)
        self.save(submission)

    @precondition(lambda self: any(item.status == "awaiting_decision" for item in self.submissions.values()))
    @rule(data=st.data(), decision=st.sampled_from(Decision))
    def decide(self, data: st.DataObject, decision: Decision) -> None:
        waiting = [key for key, item in self.submissions.items() if item.status == "awaiting_decision"]
        submission = self.submissions[data.draw(st.sampled_from(waiting))]
        current = self.current() is submission and self.risk.rests_on_current(submission.assessment_id)
        conditions = (submission.advice or {}).get("conditions", [])
        responses = [{"condition": condition, "response": "accepted"} for condition in conditions]
        try:
            self.risk.require_current_submission(submission, self.review())
        except Superseded:
            assert not current, "a decision on the submission of the current classification was refused"
            return self.refused(submission, self.risk)
        assert current, "a decision on a superseded submission was accepted"
        submission.record_decision(decision, "reasons", responses, CAIO)
        self.save(submission)

    @rule(severity=st.sampled_from(["low", "medium", "high", "critical"]))
    def incident(self, severity: str) -> None:
        if self.risk.incident_recorded(uuid.uuid4(), severity, CAIO):
            self.save(self.risk)

    @rule()
    def material_change(self) -> None:
        if self.risk.material_change("material amendment of users", meta("aigov-risk")):
            self.save(self.risk)

    @invariant()
    def board_status_follows_the_classification(self) -> None:
        review = self.review()
        assert review.status in BOARD_STATUSES
        assert (review.status == "not_required") == (self.risk.classification is not Classification.high)
        assert (review.status == "submission_required") == (
            self.risk.classification is Classification.high and review.submission_id is None
        )

    @invariant()
    def board_status_agrees_with_the_submission_it_names(self) -> None:
        submission, review = self.current(), self.review()
        if review.status in ("awaiting_advice", "awaiting_decision"):
            assert submission is not None and submission.status == review.status
        if review.status in ("decided", "resubmission_required"):
            assert submission is not None and submission.status == "decided"
            assert review.decision is not None and submission.decision["decision"] == review.decision.value
            assert (review.status == "resubmission_required") == (review.decision is Decision.revise_and_resubmit)

    @invariant()
    def at_most_one_submission_is_with_the_board_for_the_classification(self) -> None:
        with_the_board = [
            item
            for item in self.submissions.values()
            if item.status in ("awaiting_advice", "awaiting_decision")
            and item.assessment_id == self.risk.classified_assessment_id
        ]
        assert len(with_the_board) <= 1

    @invariant()
    def only_the_waiting_board_step_is_pending(self) -> None:
        review = self.review()
        board_items = [item for item in self.risk.pending(NOW, review=review) if "Board" in item["what"]]
        if self.risk.status is RiskStatus.classified_high and review.status in BOARD_ROLES:
            assert [item["role"] for item in board_items] == [BOARD_ROLES[review.status]]
        else:
            assert board_items == []

    @invariant()
    def replay_gives_the_live_aggregates(self) -> None:
        if not hasattr(self, "log"):
            return
        assert state_of(self.log.repository.get(self.risk.id)) == state_of(self.risk)
        for submission in self.submissions.values():
            assert state_of(self.log.repository.get(submission.id)) == state_of(submission)

    @invariant()
    def the_projection_shows_the_same_risk_and_board_status(self) -> None:
        if not hasattr(self, "log"):
            return
        document, review = self.projection.projects[str(PROJECT)], self.review()
        assert document["risk"]["status"] == self.risk.status.value
        assert document["board"]["status"] == review.status
        assert document["board"]["submission_id"] == review.submission_id


BoardWorkflow.TestCase.settings = settings(
    max_examples=100, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_the_board_workflow_keeps_its_invariants_under_any_sequence_of_commands = BoardWorkflow.TestCase


def test_advice_on_a_submission_superseded_by_a_reclassification_is_refused_and_settles_nothing() -> None:
    world = Government()
    world.establish()
    project = world.register()
    world.evaluate(project, high=True)
    superseded = world.submit_to_board(project)
    world.evaluate(project, high=True)  # reclassified while the first submission is still with the Board
    assert world.board_review(project).status == "submission_required"
    with pytest.raises(Superseded):
        world.advise(project, superseded, BoardOpinion.no_concerns, [])
    assert world.board_review(project) == BoardReview(BoardStatus.submission_required)


# -- JSON merge patch (RFC 7396), how a draft is edited -----------------------------------------------------------


def test_a_merge_patch_replaces_removes_and_merges() -> None:
    from shared.mergepatch import merge_patch

    target = {"a": 1, "b": {"c": 2, "d": 3}, "list": [1, 2], "gone": True}
    patch = {"a": 9, "b": {"d": None, "e": 4}, "list": [3], "gone": None}
    assert merge_patch(target, patch) == {"a": 9, "b": {"c": 2, "e": 4}, "list": [3]}
    assert target["b"] == {"c": 2, "d": 3}, "the target is left unchanged"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)
documents = st.dictionaries(st.text(max_size=3), json_values, max_size=4)


@settings(max_examples=50, deadline=None)
@given(target=documents, patch=documents)
def test_a_merge_patch_sets_every_member_it_sends_and_keeps_the_others(target: dict, patch: dict) -> None:
    from shared.mergepatch import merge_patch

    merged = merge_patch(target, patch)
    for key, value in patch.items():
        if value is None:
            assert key not in merged
        elif not isinstance(value, dict):
            assert merged[key] == value
    for key in target.keys() - patch.keys():
        assert merged[key] == target[key]
