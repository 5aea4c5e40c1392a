"""Project: register, amend, transition, record_procurement, and the lifecycle rule (allowed_transitions)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
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
from tests.unit.memory import (
    DETAILS,
    PLANNER,
    InMemoryLog,
    assert_created_once,
    assert_replay_equals_live,
    assert_stale_copy_refused,
    state_of,
)

FORWARD = [Stage.planning, Stage.procurement, Stage.development, Stage.operation]


@pytest.fixture
def log() -> InMemoryLog:
    return InMemoryLog("registry")


def new_project(**details: object) -> Project:
    return Project(ministry="MIC", details={**DETAILS, **details}, meta=PLANNER)


def at(stage: Stage) -> Project:
    """A project walked to ``stage`` by allowed steps."""
    project = new_project()
    path = {
        Stage.planning: [],
        Stage.procurement: [Stage.procurement],
        Stage.development: [Stage.procurement, Stage.development],
        Stage.operation: [Stage.procurement, Stage.development, Stage.operation],
        Stage.suspended: [Stage.procurement, Stage.development, Stage.suspended],
        Stage.retired: [Stage.retired],
    }[stage]
    for step in path:
        project.transition(step, PLANNER)
    return project


# -- register ------------------------------------------------------------------------------------------------


def test_registering_records_the_project_in_planning_with_its_details(log: InMemoryLog) -> None:
    project = new_project()
    log.save(project)
    assert log.types() == ["ProjectRegistered"]
    loaded = log.repository.get(project.id)
    assert (loaded.ministry, loaded.stage, loaded.details, loaded.procurement) == ("MIC", Stage.planning, DETAILS, None)
    assert loaded.suspended_from is None


def test_the_registration_keeps_its_own_copy_of_the_details() -> None:
    details = dict(DETAILS)
    project = Project(ministry="MIC", details=details, meta=PLANNER)
    details["title"] = "changed by the caller afterwards"
    assert project.details["title"] == DETAILS["title"]


def test_a_registration_is_recorded_only_once(log: InMemoryLog) -> None:
    """The domain has no rule refusing a registration (the unknown-ministry check is the application's); the
    refusal available here is the log's: the same registration event is never recorded twice."""
    assert_created_once(log, new_project)


# -- amend ---------------------------------------------------------------------------------------------------


def test_an_amendment_records_only_the_fields_that_change_with_their_previous_values(log: InMemoryLog) -> None:
    project = new_project()
    project.amend({"title": "New title", "owner": DETAILS["owner"]}, PLANNER)
    amended = project.pending_events[-1]
    assert amended.changes == {"title": "New title"} and amended.previous == {"title": DETAILS["title"]}
    assert amended.material is False and amended.material_fields == []
    assert project.details["title"] == "New title"
    assert_replay_equals_live(log, project)


def test_an_amendment_of_a_material_field_is_flagged_material() -> None:
    project = new_project()
    project.amend({"users": "public", "title": "Public chatbot"}, PLANNER)
    amended = project.pending_events[-1]
    assert amended.material is True and amended.material_fields == ["users"]


def test_an_amendment_that_changes_nothing_is_refused_and_records_nothing() -> None:
    project = new_project()
    project.collect_events()
    with pytest.raises(NothingToChange):
        project.amend({"title": DETAILS["title"], "users": DETAILS["users"]}, PLANNER)
    with pytest.raises(NothingToChange):
        project.amend({}, PLANNER)
    assert project.collect_events() == [] and project.details == DETAILS


def test_an_amendment_on_a_stale_copy_is_refused(log: InMemoryLog) -> None:
    assert_stale_copy_refused(log, new_project(), lambda copy: copy.amend({"title": "Mine"}, PLANNER))


@given(st.dictionaries(st.sampled_from(sorted(DETAILS)), st.sampled_from(["x", "public", "every_output"]), min_size=1))
def test_an_amendment_is_material_exactly_when_a_material_field_really_changes(changes: dict[str, str]) -> None:
    project = new_project()
    effective = {key for key, value in changes.items() if DETAILS[key] != value}
    if not effective:
        with pytest.raises(NothingToChange):
            project.amend(changes, PLANNER)
        return
    project.amend(changes, PLANNER)
    amended = project.pending_events[-1]
    assert set(amended.changes) == effective
    assert amended.material == bool(effective & MATERIAL_FIELDS)
    assert amended.material_fields == sorted(effective & MATERIAL_FIELDS)


# -- transition ----------------------------------------------------------------------------------------------


def test_the_forward_path_is_one_step_at_a_time(log: InMemoryLog) -> None:
    project = new_project()
    for stage in FORWARD[1:]:
        project.transition(stage, PLANNER)
    changes = [(event.from_stage, event.to_stage) for event in project.pending_events[1:]]
    assert changes == [("planning", "procurement"), ("procurement", "development"), ("development", "operation")]
    assert_replay_equals_live(log, project)


def test_skipping_a_stage_is_refused_naming_the_allowed_steps() -> None:
    project = new_project()
    project.collect_events()
    with pytest.raises(TransitionNotAllowed) as refused:
        project.transition(Stage.development, PLANNER)
    assert refused.value.current is Stage.planning and refused.value.requested is Stage.development
    assert refused.value.allowed == [Stage.procurement, Stage.retired]
    assert "procurement, retired" in str(refused.value)
    assert project.stage is Stage.planning and project.collect_events() == []


def test_a_suspended_project_resumes_only_to_the_stage_it_was_suspended_from(log: InMemoryLog) -> None:
    project = at(Stage.operation)
    project.transition(Stage.suspended, PLANNER)
    assert project.suspended_from is Stage.operation
    assert project.allowed_transitions == [Stage.operation, Stage.retired]
    with pytest.raises(TransitionNotAllowed):
        project.transition(Stage.development, PLANNER)
    project.transition(Stage.operation, PLANNER)
    assert project.stage is Stage.operation and project.suspended_from is None
    assert_replay_equals_live(log, project)


def test_a_retired_project_can_go_nowhere() -> None:
    project = at(Stage.retired)
    for stage in Stage:
        with pytest.raises(TransitionNotAllowed, match="none \\(the project is retired\\)"):
            project.transition(stage, PLANNER)


def test_a_transition_on_a_stale_copy_is_refused(log: InMemoryLog) -> None:
    assert_stale_copy_refused(log, new_project(), lambda copy: copy.transition(Stage.procurement, PLANNER))


# -- the lifecycle rule --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "suspended_from", "allowed"),
    [
        (Stage.planning, None, [Stage.procurement, Stage.retired]),
        (Stage.procurement, None, [Stage.development, Stage.retired]),
        (Stage.development, None, [Stage.operation, Stage.suspended, Stage.retired]),
        (Stage.operation, None, [Stage.suspended, Stage.retired]),
        (Stage.suspended, Stage.development, [Stage.development, Stage.retired]),
        (Stage.suspended, Stage.operation, [Stage.operation, Stage.retired]),
        (Stage.retired, None, []),
    ],
)
def test_the_allowed_next_stages_of_each_stage(current: Stage, suspended_from: Stage | None, allowed: list) -> None:
    assert allowed_transitions(current, suspended_from) == allowed


@settings(max_examples=150)
@given(st.lists(st.sampled_from(list(Stage)), max_size=25))
def test_any_sequence_of_requests_keeps_the_lifecycle_invariants(requests: list[Stage]) -> None:
    """Whatever is asked in whatever order: each recorded step was allowed from the stage before it, a refusal
    records nothing, forward moves are one step, a project is suspended only from development or operation and
    resumes only there, retirement is final, and replaying the log gives the live project."""
    log = InMemoryLog("registry")
    project = new_project()
    for requested in requests:
        before, suspended_from = project.stage, project.suspended_from
        allowed = allowed_transitions(before, suspended_from)
        pending = len(project.pending_events)
        if requested not in allowed:
            with pytest.raises(TransitionNotAllowed):
                project.transition(requested, PLANNER)
            assert (project.stage, project.suspended_from, len(project.pending_events)) == (
                before,
                suspended_from,
                pending,
            )
            continue
        project.transition(requested, PLANNER)
        assert project.stage is requested and len(project.pending_events) == pending + 1
        if before in FORWARD and requested in FORWARD:
            assert FORWARD.index(requested) == FORWARD.index(before) + 1
        if requested is Stage.suspended:
            assert before in (Stage.development, Stage.operation) and project.suspended_from is before
        else:
            assert project.suspended_from is None
        if before is Stage.suspended and requested is not Stage.retired:
            assert requested is suspended_from
    assert (project.stage is Stage.retired) == (project.allowed_transitions == [])
    log.save(project)
    assert state_of(log.repository.get(project.id)) == state_of(project)


# -- record_procurement --------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", [Stage.procurement, Stage.development, Stage.operation, Stage.suspended])
def test_procurement_is_recorded_from_the_procurement_stage_on(stage: Stage, log: InMemoryLog) -> None:
    project = at(stage)
    project.record_procurement({"vendor": "V", "contract": "C-1"}, PLANNER)
    assert project.procurement == {"vendor": "V", "contract": "C-1"}
    assert type(project.pending_events[-1]).__name__ == "ProcurementRecorded"
    assert_replay_equals_live(log, project)


@pytest.mark.parametrize("stage", [Stage.planning, Stage.retired])
def test_procurement_is_refused_while_planning_and_after_retirement(stage: Stage) -> None:
    project = at(stage)
    project.collect_events()
    with pytest.raises(StageRuleViolated, match=stage.value):
        project.record_procurement({"vendor": "V"}, PLANNER)
    assert project.procurement is None and project.collect_events() == []


def test_a_procurement_record_on_a_stale_copy_is_refused(log: InMemoryLog) -> None:
    assert_stale_copy_refused(log, at(Stage.procurement), lambda copy: copy.record_procurement({"v": 1}, PLANNER))


def test_refusals_never_reach_the_log(log: InMemoryLog) -> None:
    project = new_project()
    log.save(project)
    loaded = log.repository.get(project.id)
    for refused in (
        lambda: loaded.transition(Stage.operation, PLANNER),
        lambda: loaded.amend({"title": DETAILS["title"]}, PLANNER),
        lambda: loaded.record_procurement({"vendor": "V"}, PLANNER),
    ):
        with pytest.raises((TransitionNotAllowed, NothingToChange, StageRuleViolated)):
            refused()
    log.save(loaded)
    assert log.types() == ["ProjectRegistered"]
