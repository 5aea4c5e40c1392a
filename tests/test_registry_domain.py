"""Fast unit tests of the registry's domain rules (no HTTP, no database)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.registry.domain import (
    MATERIAL_FIELDS,
    NothingToChange,
    Project,
    Stage,
    StageRuleViolated,
    TransitionNotAllowed,
    allowed_transitions,
)
from shared.meta import EventMeta

META = EventMeta("alice", "Alice", "planner", "MIC", "because", "corr")
DETAILS = {
    "title": "T",
    "users": "staff_only",
    "nature_of_work": "internal_support",
    "business_area": "admin",
    "data": {"confidentiality": "internal", "personal_data": False},
    "human_review": "every_output",
    "models": [],
    "owner": "O",
    "expected_users": 1,
    "description": "d",
    "objectives": "o",
}


def new_project() -> Project:
    return Project(ministry="MIC", details=DETAILS, meta=META)


def test_the_forward_path_is_one_step_at_a_time() -> None:
    project = new_project()
    for stage in (Stage.procurement, Stage.development, Stage.operation, Stage.retired):
        project.transition(stage, META)
    assert project.stage is Stage.retired and project.allowed_transitions == []


def test_suspension_resumes_only_to_the_stage_suspended_from() -> None:
    project = new_project()
    for stage in (Stage.procurement, Stage.development, Stage.suspended):
        project.transition(stage, META)
    assert project.allowed_transitions == [Stage.development, Stage.retired]
    with pytest.raises(TransitionNotAllowed) as refused:
        project.transition(Stage.operation, META)
    assert refused.value.allowed == [Stage.development, Stage.retired]


@given(st.lists(st.sampled_from(list(Stage)), max_size=30))
def test_any_sequence_of_requests_only_ever_takes_allowed_steps(requests: list[Stage]) -> None:
    """Whatever is asked, each recorded step was allowed from the stage before it; refusals record nothing."""
    project = new_project()
    project.collect_events()
    for requested in requests:
        before, suspended_from = project.stage, project.suspended_from
        allowed = allowed_transitions(before, suspended_from)
        if requested in allowed:
            project.transition(requested, META)
            assert project.stage is requested
            assert len(project.collect_events()) == 1
        else:
            with pytest.raises(TransitionNotAllowed):
                project.transition(requested, META)
            assert project.stage is before and project.collect_events() == []
        if project.stage is Stage.retired:
            assert project.allowed_transitions == []


@given(st.dictionaries(st.sampled_from(sorted(DETAILS)), st.text(min_size=1, max_size=5), min_size=1))
def test_an_amendment_is_material_exactly_when_a_material_field_really_changes(changes: dict[str, str]) -> None:
    project = new_project()
    effective = {key for key, value in changes.items() if DETAILS[key] != value}
    if not effective:
        with pytest.raises(NothingToChange):
            project.amend(changes, META)
        return
    project.amend(changes, META)
    amended = project.collect_events()[-1]
    assert set(amended.changes) == effective
    assert amended.material == bool(effective & MATERIAL_FIELDS)
    assert amended.material_fields == sorted(effective & MATERIAL_FIELDS)
    assert {key: DETAILS[key] for key in effective} == amended.previous


def test_procurement_cannot_be_recorded_while_planning() -> None:
    with pytest.raises(StageRuleViolated):
        new_project().record_procurement({"vendor": "V"}, META)


def test_the_gate_names_every_missing_step() -> None:
    from datetime import UTC, datetime, timedelta

    from services.registry.domain import operation_blockers

    now = datetime.now(UTC)
    decided = {
        "classification": "high",
        "classification_current": True,
        "expires_at": now + timedelta(days=1),
        "board_advice_recorded": True,
        "decision": "proceed",
        "classified_registry_position": 10,
        "last_material_position": 5,
    }
    assert operation_blockers(decided, now) == []
    assert operation_blockers(None, now) == ["the CAIO's risk classification (the risk evaluation is not yet decided)"]
    assert "stale" in operation_blockers({**decided, "last_material_position": 11}, now)[0]
    assert "expired" in operation_blockers(decided, now + timedelta(days=2))[0]
    assert operation_blockers({**decided, "board_advice_recorded": False, "decision": None}, now) == [
        "the Advisory Board's advice on a submission",
        "the CAIO's decision to proceed (proceed or proceed_with_conditions)",
    ]
    assert (
        operation_blockers(
            {**decided, "classification": "not_high", "board_advice_recorded": False, "decision": None}, now
        )
        == []
    )


def test_a_classification_expires_after_the_ruleset_period_and_then_shows_reevaluation_due() -> None:
    import uuid
    from datetime import UTC, datetime, timedelta

    from services.risk.contract import add_months
    from services.risk.domain import Classification, ProjectRisk

    risk = ProjectRisk(project_id=uuid.uuid4(), ministry="MIC", cause="registered", meta=META)
    assessment_id = uuid.uuid4()
    risk.start_assessment(assessment_id, META)
    now = datetime.now(UTC)
    risk.record_classification(assessment_id, Classification.not_high, add_months(now, 12), 1, META)
    assert not risk.is_expired(now + timedelta(days=364)) and risk.pending(now) == []
    assert risk.is_expired(now + timedelta(days=366))
    assert risk.pending(now + timedelta(days=366)) == [{"what": "re-evaluation", "role": "planner", "ministry": "MIC"}]
