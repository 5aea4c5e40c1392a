"""Aggregates loaded from a snapshot (every 100 events) obey the same rules as replayed ones.

A snapshot stores an aggregate's attributes as JSON, so an enum comes back as its text; the rules compare stage
and status by value, so a project with a long history still meets the gate before operation."""

from __future__ import annotations

import pytest

from services.registry.application import RegistryApplication
from services.registry.contract import Stage
from services.registry.domain import OperationBlocked
from shared.meta import EventMeta
from tests.support import complete_sheets, project_body

ADMIN = EventMeta("root", "Root", "admin", None, "setup", "corr")
PLANNER = EventMeta("alice", "Alice", "planner", "MIC", "work", "corr")


def test_a_project_loaded_from_a_snapshot_still_meets_the_gate_before_operation(database_url: str) -> None:
    app = RegistryApplication(database_url)
    app.establish_ministry("MIC", "Internal Affairs", ADMIN)
    details = project_body("MIC")
    details.pop("ministry")
    project = app.register_project("MIC", details, PLANNER)
    app.transition_project(project.id, Stage.procurement, PLANNER)
    complete_sheets(app, project.id, PLANNER)
    app.transition_project(project.id, Stage.development, PLANNER)
    for revision in range(110):  # past the snapshotting interval of 100 events
        app.amend_project(project.id, {"title": f"Drafting aid, revision {revision}"}, PLANNER)
    loaded = app.get_project(project.id)
    assert loaded.version > 100 and loaded.stage == Stage.development
    with pytest.raises(OperationBlocked):
        app.transition_project(project.id, Stage.operation, PLANNER)
    assert app.get_project(project.id).stage == Stage.development
