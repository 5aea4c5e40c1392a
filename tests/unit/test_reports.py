"""Reports as pure functions of the projection: what is pending and on whom, the inventory and registers, and the
periodic report's period and counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from services.registry.domain import Stage
from services.reporting import periodic, reports
from services.reporting.projection import Projection
from services.risk.domain import BoardOpinion, Classification, Decision
from tests.unit.memory import Government


def folded(world: Government) -> Projection:
    state = Projection()
    for envelopes in world.envelopes().values():
        for envelope in envelopes:
            state.apply(envelope)
    return state


def waiting(world: Government, project: UUID) -> list[tuple[str, str | None]]:
    """(role, ministry) of everything the reporting service says the project waits for."""
    doc = folded(world).projects[str(project)]
    return [(item["role"], item["ministry"]) for item in reports.pending_for(doc)]


def high_at(board: str) -> Callable[[Government, UUID], None]:
    def walk(world: Government, project: UUID) -> None:
        world.evaluate(project, high=True)
        if board == "submission_required":
            return
        submission = world.submit_to_board(project)
        if board == "awaiting_advice":
            return
        world.advise(project, submission, BoardOpinion.no_concerns, [])
        if board == "awaiting_decision":
            return
        world.decide(project, submission, Decision[board])

    return walk


def opened(world: Government, project: UUID) -> None:
    world.open_assessment(project)


def submitted(world: Government, project: UUID) -> None:
    assessment = world.open_assessment(project)
    world.answer(assessment, high=False)
    world.submit_assessment(assessment)


def stale(world: Government, project: UUID) -> None:
    world.evaluate(project, high=False)
    world.amend(project, users="public")


def stale_and_reopened(world: Government, project: UUID) -> None:
    stale(world, project)
    world.open_assessment(project)


@pytest.mark.parametrize(
    ("walk", "expected"),
    [
        (lambda world, project: None, [("planner", "MIC")]),
        (opened, [("planner", "MIC")]),
        (submitted, [("caio", "MIC")]),
        (lambda world, project: world.evaluate(project, high=False), []),
        (high_at("submission_required"), [("caio", "MIC")]),
        (high_at("awaiting_advice"), [("board_member", None)]),
        (high_at("awaiting_decision"), [("caio", "MIC")]),
        (high_at("revise_and_resubmit"), [("caio", "MIC")]),
        (high_at("proceed"), []),
        (stale, [("planner", "MIC")]),
        (stale_and_reopened, [("planner", "MIC")]),
    ],
    ids=[
        "due",
        "assessment-open",
        "assessment-submitted",
        "not-high",
        "high-to-submit",
        "with-the-board",
        "to-decide",
        "to-resubmit",
        "decided",
        "stale",
        "stale-and-reassessing",
    ],
)
def test_what_each_project_waits_for_and_on_whom(
    walk: Callable[[Government, UUID], None], expected: list[tuple[str, str | None]]
) -> None:
    world = Government()
    world.establish()
    project = world.register()
    walk(world, project)
    assert waiting(world, project) == expected


def test_pending_items_name_the_assessment_or_submission_they_wait_for() -> None:
    world = Government()
    world.establish()
    project = world.register()
    world.evaluate(project, high=True)
    submission = world.submit_to_board(project)
    [item] = reports.pending_for(folded(world).projects[str(project)])
    assert item["what"] == f"Advisory Board advice on submission {submission}"


def test_the_risk_service_and_reporting_agree_on_whom_a_submitted_assessment_waits() -> None:
    world = Government()
    world.establish()
    project = world.register()
    submitted(world, project)
    risk_roles = [item["role"] for item in world.project_risk(project).pending(datetime.now(UTC), True)]
    assert risk_roles == [role for role, _ in waiting(world, project)]


@pytest.fixture(scope="module")
def government() -> tuple[Government, UUID]:
    """MIC: a decided high-risk project in operation with a severe incident, a not-high one in planning;
    MOF: a project in procurement still due for evaluation."""
    world = Government()
    world.establish("MIC")
    world.establish("MOF", "Ministry of Finance")
    world.designate("MIC", "c1", "Carol")
    high_at("proceed")(world, high := world.register("MIC", title="Chatbot"))
    world.transition(high, Stage.procurement, Stage.development, Stage.operation)
    world.incident(high, "critical")
    world.incident(high, "low")
    world.evaluate(world.register("MIC", title="Memo drafts"), high=False)
    world.transition(world.register("MOF", title="Tax FAQ"), Stage.procurement)
    return world, high


def test_pending_filters_by_ministry_and_role(government: tuple[Government, UUID]) -> None:
    state = folded(government[0])
    everything = reports.pending(state)
    assert {(item["title"], item["role"]) for item in everything} == {("Chatbot", "planner"), ("Tax FAQ", "planner")}
    assert [item["title"] for item in reports.pending(state, ministry="MOF")] == ["Tax FAQ"]
    assert reports.pending(state, role="caio") == []
    assert all(item["project_ministry"] == "MOF" for item in reports.pending(state, ministry="MOF"))


def test_the_inventory_lists_registered_projects_in_registration_order_and_filters(
    government: tuple[Government, UUID],
) -> None:
    state = folded(government[0])
    assert [item["title"] for item in reports.inventory(state)] == ["Chatbot", "Memo drafts", "Tax FAQ"]
    assert [item["title"] for item in reports.inventory(state, ministry="MIC", stage="planning")] == ["Memo drafts"]
    assert [item["title"] for item in reports.inventory(state, risk="due")] == ["Tax FAQ"]
    chatbot = reports.inventory(state, stage="operation")[0]
    assert (chatbot["risk_status"], chatbot["board_status"], chatbot["incidents"]) == ("stale", "decided", 2)
    assert chatbot["caio"] == {"officer_id": "c1", "name": "Carol"}


def test_the_high_risk_register_holds_only_projects_classified_high(government: tuple[Government, UUID]) -> None:
    [entry] = reports.high_risk_register(folded(government[0]))
    assert entry["title"] == "Chatbot" and entry["classification"] == "high"
    assert entry["submission"]["id"] and entry["decision"]["decision"] == "proceed"


def test_the_project_state_lists_incidents_and_the_caio(government: tuple[Government, UUID]) -> None:
    state = folded(government[0])
    project = reports.project_state(state, str(government[1]))
    assert project is not None and len(project["incidents"]) == 2 and project["caio"]["officer_id"] == "c1"
    assert reports.project_state(state, "00000000-0000-4000-8000-000000000000") is None


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("2026H1", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)),
        ("2026H2", datetime(2026, 7, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
    ],
)
def test_a_period_is_a_half_year_in_utc(period: str, start: datetime, end: datetime) -> None:
    assert periodic.period_bounds(period) == (start, end)


@pytest.mark.parametrize("period", ["2026H3", "2026", "26H1", "2026h1", "1999H1"])
def test_a_malformed_period_is_refused(period: str) -> None:
    with pytest.raises(ValueError):
        periodic.period_bounds(period)


def test_the_periodic_report_counts_systems_by_stage_and_risk_and_incidents_in_the_period(
    government: tuple[Government, UUID],
) -> None:
    state = folded(government[0])
    now = datetime.now(UTC)
    this_half = f"{now.year}H{1 if now.month <= 6 else 2}"
    report: dict[str, Any] = periodic.periodic_report(state, "MIC", this_half)
    assert [system["title"] for system in report["systems"]] == ["Chatbot", "Memo drafts"]
    chatbot = report["systems"][0]
    assert (chatbot["incidents_in_period"], chatbot["severe_incidents_in_period"]) == (2, 1)
    # The severe incident made the chatbot's high classification stale: still drawn as high risk, marked stale
    # (issue 16: the printed page drew stale high-risk systems as "other").
    assert (chatbot["classification"], chatbot["classification_stale"]) == ("high", True)
    assert report["by_stage_and_risk"]["operation"] == {"classified_high": 1, "classified_not_high": 0, "other": 0}
    assert (report["severe_incidents_in_period"], report["stale_classifications"]) == (1, 1)
    assert report["by_stage_and_risk"]["planning"]["classified_not_high"] == 1
    assert sum(sum(groups.values()) for groups in report["by_stage_and_risk"].values()) == 2
    earlier = periodic.periodic_report(state, "MIC", f"{now.year - 1}H1")
    assert all(system["incidents_in_period"] == 0 for system in earlier["systems"])


def test_a_classification_in_the_projection_is_what_the_caio_decided() -> None:
    world = Government()
    world.establish()
    project = world.register()
    world.evaluate(project, high=True, classification=Classification.not_high)
    [item] = reports.inventory(folded(world))
    assert (item["classification"], item["risk_status"], item["board_status"]) == (
        "not_high",
        "classified_not_high",
        "not_required",
    )
