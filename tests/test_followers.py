"""Followers process each upstream event exactly once, committing effects and position together."""

from __future__ import annotations

import pytest

from services.registry.application import RegistryApplication
from services.reporting.followers import ProjectionFollower
from services.reporting.readmodel import ReportingStore
from services.reporting.reports import inventory
from services.risk.application import RiskApplication
from services.risk.service import build_registry_follower
from shared.follower import Follower
from shared.meta import EventMeta
from shared.preconditions import IfMatch
from shared.settings import Settings
from tests.support import project_body

ADMIN = EventMeta("root", "Root", "admin", None, None, "c")
PLANNER = EventMeta("alice", "Alice", "planner", "MIC", None, "c")


def register(app: RegistryApplication, count: int) -> None:
    details = project_body("MIC")
    details.pop("ministry")
    for number in range(count):
        app.register_project("MIC", {**details, "title": f"P{number}"}, PLANNER)


class Crash(Exception):
    pass


def test_a_crash_mid_batch_commits_nothing_and_the_restart_resumes_without_gap_or_duplicate(
    database_url: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    registry = RegistryApplication(database_url)
    registry.establish_ministry("MIC", "Internal Affairs", ADMIN)
    register(registry, 10)
    settings = Settings(database_url=database_url, var_dir=tmp_path)
    store = ReportingStore(settings)
    follower = ProjectionFollower(store, batch_size=4)

    assert follower.process_available() == 4  # positions 1..4 committed
    assert store.positions()["registry"] == 4

    original = store.persist

    def crash_while_writing(session, state):  # type: ignore[no-untyped-def]
        original(session, state)
        raise Crash()  # the rows and the positions were written in the transaction, which now rolls back

    store.persist = crash_while_writing  # type: ignore[method-assign]
    with pytest.raises(Crash):
        follower.process_available()
    assert store.positions()["registry"] == 4
    assert len(inventory(store.load())) == 3  # positions 2..4 are projects; 5..8 were rolled back

    store.persist = original  # type: ignore[method-assign]
    restarted = ProjectionFollower(ReportingStore(settings), batch_size=4)
    assert restarted.catch_up() == 7
    assert store.positions()["registry"] == 11
    assert sorted(item["title"] for item in inventory(store.load())) == sorted(f"P{n}" for n in range(10))


def test_a_second_follower_instance_resumes_from_the_tracked_position(database_url: str) -> None:
    registry = RegistryApplication(database_url)
    registry.establish_ministry("MIC", "Internal Affairs", ADMIN)
    register(registry, 5)
    settings = Settings(database_url=database_url)
    risk = RiskApplication(database_url)
    assert build_registry_follower(settings, risk).catch_up() == 6
    register(registry, 2)
    restarted: Follower = build_registry_follower(settings, RiskApplication(database_url))
    assert restarted.position() == 6
    assert restarted.catch_up() == 2
    assert risk.head_position() == 7  # one RiskEvaluationBecameDue per project, none twice
    assert risk.verify_log().ok


def test_a_material_amendment_makes_a_classification_stale_only_once_classified(database_url: str) -> None:
    registry = RegistryApplication(database_url)
    registry.establish_ministry("MIC", "Internal Affairs", ADMIN)
    register(registry, 1)
    risk = RiskApplication(database_url)
    follower = build_registry_follower(Settings(database_url=database_url), risk)
    follower.catch_up()
    project_id = registry.read_log(after=1, limit=1)[0].aggregate_id
    registry.amend_project(
        project_id,
        {"users": "public"},
        EventMeta("alice", "Alice", "planner", "MIC", "opened to citizens", "c"),
        if_match=IfMatch(frozenset({1})),
    )
    follower.catch_up()
    state = risk.project_risk(project_id)
    assert state.status == "due"  # nothing was decided yet, so nothing went stale
    assert risk.head_position() == 1
