"""Reporting killed with SIGKILL in the middle of a 10,000-event catch-up ends equal to a clean rebuild."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.registry.application import RegistryApplication
from services.registry.domain import Project, Stage
from services.reporting.readmodel import ReportingStore
from shared.meta import EventMeta
from shared.settings import Settings
from tests.conftest import fresh_url
from tests.support import ServiceStack, list_all, migrated, project_body, wait_for
from tests.support.scenarios import cli

PROJECTS = 2500  # × 4 events each, plus the ministry: 10,001 registry events


def seed(url: str) -> int:
    """10,000 events written straight through the registry application (fast: one transaction per project)."""
    registry = RegistryApplication(url)
    admin = EventMeta("root", "Root", "admin", None, None, "seed")
    registry.establish_ministry("MIC", "Internal Affairs", admin)
    planner = EventMeta("alice", "Alice", "planner", "MIC", "seeding", "seed")
    details = project_body("MIC")
    details.pop("ministry")
    for number in range(PROJECTS):
        project = Project(ministry="MIC", details={**details, "title": f"Project {number:05d}"}, meta=planner)
        for stage in (Stage.procurement, Stage.development, Stage.operation):
            project.transition(stage, planner)
        registry.save(project)
    return registry.head_position()


@pytest.mark.slow
def test_sigkill_mid_catch_up_ends_equal_to_a_clean_rebuild(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = migrated(fresh_url(backend, tmp_path, request))
    head = seed(url)
    assert head == 4 * PROJECTS + 1
    stack = ServiceStack(url, tmp_path)
    settings = Settings(database_url=url, var_dir=tmp_path)
    store = ReportingStore(settings)
    try:
        stack.start("reporting")
        wait_for(lambda: store.positions()["registry"] > 1000, timeout=60, interval=0.005)
        stack.kill("reporting")
        killed_at = store.positions()["registry"]
        assert killed_at < head, "the kill must land in the middle of the catch-up"
        stack.start("reporting")
        wait_for(lambda: store.positions()["registry"] == head, timeout=120)
        inventory = list_all(stack.client("reporting", stack.token("aud", ["auditor"])), "/v1/inventory")
        assert len(inventory) == PROJECTS and {item["stage"] for item in inventory} == {"operation"}
    finally:
        stack.stop_all()
    live = store.rows()
    rebuilt = cli("reporting", "rebuild", AIGOV_DATABASE_URL=url, AIGOV_VAR_DIR=str(tmp_path))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert store.rows() == live
    assert len(live["projects"]) == PROJECTS and len(live["project_events"]) == 4 * PROJECTS
