"""The reporting projection: the pure fold of the registry and risk logs (as JSON envelopes) into documents."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.registry.domain import Stage
from services.reporting.projection import Projection
from services.risk.domain import BoardOpinion, Classification, Decision
from tests.unit.memory import DETAILS, Government

Envelope = dict[str, Any]


def fold(*logs: list[Envelope]) -> Projection:
    state = Projection()
    for log in logs:
        for envelope in log:
            state.apply(envelope)
    return state


def documents(state: Projection) -> dict[str, Any]:
    """What the read-model tables hold: the documents and the positions they reflect."""
    return {"projects": state.projects, "ministries": state.ministries, "positions": state.positions}


class Story:
    """Two ministries; one high-risk project taken through the Board to operation with an incident, and one
    registered and amended."""

    def __init__(self) -> None:
        world = Government()
        world.establish("MIC", "Ministry of Internal Affairs")
        world.establish("MOF", "Ministry of Finance")
        world.designate("MIC", "c1", "Carol")
        self.high = world.register("MIC")
        world.transition(self.high, Stage.procurement)
        world.procure(self.high, {"vendor": "V", "contract": "C-1"})
        world.transition(self.high, Stage.development)
        self.assessment = world.evaluate(self.high, high=True)
        self.submission = world.submit_to_board(self.high)
        world.advise(self.high, self.submission, BoardOpinion.advice_with_conditions, ["publish the evaluation"])
        world.decide(self.high, self.submission, Decision.proceed_with_conditions)
        world.transition(self.high, Stage.operation)
        self.incident = world.incident(self.high, "high")
        world.report_incident(self.incident)
        world.close_incident(self.incident)
        self.other = world.register("MOF", title="Tax FAQ bot")
        world.amend(self.other, title="Tax FAQ assistant")
        self.world = world
        self.registry = world.registry.envelopes()
        self.risk = world.risk.envelopes()


STORY = Story()


@pytest.fixture
def story() -> Story:
    """The story's logs, recorded once for the module (the tests only read them)."""
    return STORY


# -- the documents -------------------------------------------------------------------------------------------------


def test_the_registry_log_folds_into_ministries_and_the_registry_part_of_each_project(story: Story) -> None:
    state = fold(story.registry, story.risk)
    assert state.ministries["MIC"]["caio"] == {"officer_id": "c1", "name": "Carol"}
    assert state.ministries["MOF"] == {
        "ministry": "MOF",
        "ministry_id": str(story.world.registry.repository.get(story.other).id)
        and state.ministries["MOF"]["ministry_id"],
        "name": "Ministry of Finance",
        "caio": None,
    }
    registry = state.projects[str(story.high)]["registry"]
    assert (registry["ministry"], registry["stage"], registry["registered_by"]) == ("MIC", "operation", "alice")
    assert registry["procurement"] == {"vendor": "V", "contract": "C-1"} and registry["details"] == DETAILS
    other = state.projects[str(story.other)]["registry"]
    assert (other["title"], other["details"]["title"], other["stage"]) == ("Tax FAQ assistant",) * 2 + ("planning",)
    assert other["updated_at"] > other["registered_at"]


def test_the_risk_log_folds_into_the_risk_board_and_incident_parts(story: Story) -> None:
    document = fold(story.registry, story.risk).projects[str(story.high)]
    risk, board = document["risk"], document["board"]
    assert (risk["status"], risk["classification"], risk["override"]) == ("stale", "high", False)
    assert risk["stale_causes"] == [f"severe incident {story.incident}"]
    assert risk["expires_at"] == story.world.project_risk(story.high).expires_at.isoformat()
    assert risk["assessment"]["id"] == str(story.assessment) and risk["assessment"]["state"] == "classified"
    assert (risk["assessment"]["likely_high_risk"], risk["assessment"]["ruleset"]) == (True, "jp-genai-2.0@1")
    assert (board["status"], board["submission_id"]) == ("decided", str(story.submission))
    assert board["advice"]["opinion"] == "advice_with_conditions"
    assert board["advice"]["conditions"] == ["publish the evaluation"]
    assert (board["decision"]["decision"], board["decision"]["by"]) == ("proceed_with_conditions", "carol")
    incident = document["incidents"][str(story.incident)]
    assert incident["severity"] == "high" and incident["reported_to_digital_agency"] and incident["closed"]


def test_the_fold_shows_what_the_aggregates_hold(story: Story) -> None:
    state = fold(story.registry, story.risk)
    for project_id in (story.high, story.other):
        document, risk = state.projects[str(project_id)], story.world.project_risk(project_id)
        assert document["registry"]["stage"] == story.world.project(project_id).stage.value
        assert document["risk"]["status"] == risk.status.value
        assert document["board"]["status"] == story.world.board_review(project_id).status


def test_the_documents_are_plain_json(story: Story) -> None:
    state = fold(story.registry, story.risk)
    assert json.loads(json.dumps(documents(state))) == documents(state)


def test_the_positions_are_the_last_folded_position_of_each_log(story: Story) -> None:
    state = fold(story.registry, story.risk)
    assert state.positions == {"registry": len(story.registry), "risk": len(story.risk)}
    assert [position for service, position in state.project_events[str(story.other)] if service == "registry"] == [
        envelope["position"] for envelope in story.registry if envelope["aggregate_id"] == str(story.other)
    ]


# -- exactly once, any order, resumable ---------------------------------------------------------------------------


def test_a_replayed_batch_changes_nothing(story: Story) -> None:
    state = fold(story.registry, story.risk)
    before = json.dumps(documents(state), sort_keys=True)
    events = {key: list(value) for key, value in state.project_events.items()}
    state.take_changes()
    for envelope in story.registry[-3:] + story.risk[:5]:
        state.apply(envelope)
    assert json.dumps(documents(state), sort_keys=True) == before and state.project_events == events
    assert state.take_changes() == (set(), set(), set(), [])


def interleave(registry: list[Envelope], risk: list[Envelope], picks: list[bool]) -> list[Envelope]:
    """Merge the two logs in the order ``picks`` chooses (True: next registry event), each log keeping its order."""
    merged, r, k = [], 0, 0
    for pick in picks + [True] * len(registry) + [False] * len(risk):
        if pick and r < len(registry):
            merged.append(registry[r])
            r += 1
        elif not pick and k < len(risk):
            merged.append(risk[k])
            k += 1
    return merged


@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), max_size=len(STORY.registry) + len(STORY.risk)))
def test_any_interleaving_of_the_two_logs_gives_the_same_documents(picks: list[bool]) -> None:
    merged = interleave(STORY.registry, STORY.risk, picks)
    assert len(merged) == len(STORY.registry) + len(STORY.risk)
    expected = documents(fold(STORY.registry, STORY.risk))
    assert documents(fold(merged)) == expected


def reloaded(state: Projection) -> Projection:
    """What the reporting store loads after a restart: the stored documents (as JSON), the links of risk
    aggregates to projects, and the tracked positions."""
    stored = json.loads(
        json.dumps(
            {
                "projects": state.projects,
                "ministries": state.ministries,
                "codes": state.ministry_codes,
                "aggregates": state.aggregates,
                "positions": state.positions,
            }
        )
    )
    again = Projection()
    again.projects, again.ministries = stored["projects"], stored["ministries"]
    again.ministry_codes, again.aggregates, again.positions = stored["codes"], stored["aggregates"], stored["positions"]
    return again


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.booleans(), max_size=len(STORY.registry) + len(STORY.risk)),
    st.integers(0, len(STORY.registry) + len(STORY.risk)),
)
def test_a_fold_resumed_from_the_stored_documents_ends_where_an_uninterrupted_fold_ends(
    picks: list[bool], stop: int
) -> None:
    """A follower that crashes after committing a batch reloads the documents and positions and goes on reading
    both logs from those positions (re-reading anything already folded): the end result is the same."""
    merged = interleave(STORY.registry, STORY.risk, picks)
    state = fold(merged[:stop])
    resumed = reloaded(state)
    for envelope in merged:  # from the start: positions already folded are skipped
        resumed.apply(envelope)
    assert documents(resumed) == documents(fold(STORY.registry, STORY.risk))


def test_folding_up_to_a_position_gives_the_state_as_of_that_position(story: Story) -> None:
    registered_at = next(
        e["position"]
        for e in story.registry
        if e["type"] == "ProjectRegistered" and e["aggregate_id"] == str(story.high)
    )
    early = fold([e for e in story.registry if e["position"] <= registered_at])
    assert early.projects[str(story.high)]["registry"]["stage"] == "planning"
    assert early.projects[str(story.high)]["risk"]["status"] == "not_known_to_risk"
    assert early.positions == {"registry": registered_at, "risk": 0}


# -- events the fold does not know, or cannot place -----------------------------------------------------------------


def test_an_unknown_event_type_advances_the_position_and_changes_no_document(story: Story) -> None:
    state = fold(story.registry)
    before = json.dumps([state.projects, state.ministries], sort_keys=True)
    state.take_changes()
    state.apply({**story.registry[-1], "type": "SomethingNew", "position": len(story.registry) + 1})
    assert json.dumps([state.projects, state.ministries], sort_keys=True) == before
    assert state.positions["registry"] == len(story.registry) + 1
    assert state.take_changes() == (set(), set(), set(), [])


def test_a_risk_event_about_an_aggregate_never_linked_to_a_project_is_ignored(story: Story) -> None:
    screened = next(e for e in story.risk if e["type"] == "AssessmentScreened")
    state = Projection()
    state.apply({**screened, "position": 1})
    assert state.projects == {} and state.project_events == {} and state.positions["risk"] == 1


# -- change tracking and copies --------------------------------------------------------------------------------------


def test_take_changes_reports_what_the_last_batch_touched_then_forgets_it(story: Story) -> None:
    state = fold(story.registry, story.risk)
    state.take_changes()
    amended = next(e for e in story.registry if e["type"] == "ProjectAmended")
    state.positions["registry"] = amended["position"] - 1
    state.apply(amended)
    projects, ministries, aggregates, new_events = state.take_changes()
    assert (projects, ministries, aggregates) == ({str(story.other)}, set(), set())
    assert new_events == [(str(story.other), "registry", amended["position"])]
    assert state.take_changes() == (set(), set(), set(), [])


def test_a_risk_aggregate_is_linked_to_its_project_once_when_it_is_created(story: Story) -> None:
    state = Projection()
    for envelope in story.registry:
        state.apply(envelope)
    state.take_changes()
    creations = {"RiskEvaluationBecameDue", "AssessmentOpened", "BoardSubmissionDrafted", "IncidentRecorded"}
    for envelope in story.risk:
        state.apply(envelope)
    created = {e["aggregate_id"] for e in story.risk if e["type"] in creations}
    assert set(state.aggregates) == created and state.take_changes()[2] == created
    assert state.aggregates[str(story.submission)] == str(story.high)


def test_a_copy_is_independent_of_the_original(story: Story) -> None:
    state = fold(story.registry)
    snapshot = state.copy()
    for envelope in story.risk:
        snapshot.apply(envelope)
    assert state.positions["risk"] == 0 and state.projects[str(story.high)]["risk"]["status"] == "not_known_to_risk"
    assert snapshot.projects[str(story.high)]["risk"]["status"] == "stale"


# -- the rules as the projection keeps them -------------------------------------------------------------------------


def project_document(world: Government, project_id: UUID) -> dict[str, Any]:
    return fold(world.registry.envelopes(), world.risk.envelopes()).projects[str(project_id)]


@pytest.fixture
def world() -> Government:
    world = Government()
    world.establish()
    return world


def test_a_registered_project_shows_its_evaluation_due_then_in_progress(world: Government) -> None:
    project = world.register()
    assert project_document(world, project)["risk"]["status"] == "due"
    assessment = world.open_assessment(project)
    document = project_document(world, project)
    assert document["risk"]["status"] == "in_progress" and document["risk"]["assessment"]["state"] == "draft"
    world.answer(assessment, high=False)
    world.submit_assessment(assessment)
    assessment_part = project_document(world, project)["risk"]["assessment"]
    assert (assessment_part["state"], assessment_part["likely_high_risk"], assessment_part["level"]) == (
        "submitted",
        False,
        "I",
    )


def test_a_material_amendment_makes_the_classification_stale_naming_the_cause(world: Government) -> None:
    project = world.register()
    world.evaluate(project, high=False)
    world.amend(project, title="Renamed only")
    assert project_document(world, project)["risk"]["status"] == "classified_not_high"
    world.amend(project, users="public")
    risk = project_document(world, project)["risk"]
    assert risk["status"] == "stale" and risk["stale_causes"] == ["material amendment of users"]


@pytest.mark.parametrize(("severity", "status"), [("medium", "classified_not_high"), ("critical", "stale")])
def test_only_a_severe_incident_makes_the_classification_stale(world: Government, severity: str, status: str) -> None:
    project = world.register()
    world.evaluate(project, high=False)
    world.incident(project, severity)
    assert project_document(world, project)["risk"]["status"] == status


def test_a_severe_incident_before_the_classification_leaves_the_evaluation_due(world: Government) -> None:
    project = world.register()
    world.incident(project, "critical")
    risk = project_document(world, project)["risk"]
    assert (risk["status"], risk["stale_causes"]) == ("due", [])
    assert len(project_document(world, project)["incidents"]) == 1


def test_an_override_of_a_likely_high_screening_is_shown(world: Government) -> None:
    project = world.register()
    world.evaluate(project, high=True, classification=Classification.not_high)
    risk = project_document(world, project)["risk"]
    assert (risk["status"], risk["override"], risk["assessment"]["likely_high_risk"]) == (
        "classified_not_high",
        True,
        True,
    )


def test_a_reclassification_restarts_the_board_part(world: Government) -> None:
    project = world.register()
    world.evaluate(project, high=True)
    submission = world.submit_to_board(project)
    world.advise(project, submission, BoardOpinion.no_concerns, [])
    world.decide(project, submission, Decision.revise_and_resubmit)
    assert project_document(world, project)["board"]["status"] == "resubmission_required"
    world.evaluate(project, high=True)
    board = project_document(world, project)["board"]
    assert (board["status"], board["submission_id"], board["submitted_at"]) == ("submission_required", None, None)
    assert (board["advice"], board["decision"]) == (None, None)


def test_a_ministry_without_a_caio_after_a_revocation(world: Government) -> None:
    world.designate("MIC", "c1", "Carol")
    world.revoke("MIC")
    state = fold(world.registry.envelopes())
    assert state.ministries["MIC"]["caio"] is None and state.positions["registry"] == 3
