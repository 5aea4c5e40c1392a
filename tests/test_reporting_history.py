"""Reporting's history tables: the same rows whatever the batches, and the answer at every position of the log
equal to a replay from position zero up to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.registry.application import RegistryApplication
from services.registry.domain import Project, Stage
from services.reporting import reports
from services.reporting.followers import ProjectionFollower
from services.reporting.queries import Filters, ReportQueries, cursor_key
from services.reporting.readmodel import ReportingStore
from shared.meta import EventMeta
from shared.problems import Unprocessable
from shared.settings import Settings
from tests.support import project_body

ADMIN = EventMeta("root", "Root", "admin", None, None, "test")
PLANNER = EventMeta("alice", "Alice", "planner", "MIC", "test", "test")


def seed(url: str, projects: int) -> RegistryApplication:
    """Projects moving through their stages, each saved in one transaction (several events per project)."""
    registry = RegistryApplication(url)
    registry.establish_ministry("MIC", "Internal Affairs", ADMIN)
    details = project_body("MIC")
    details.pop("ministry")
    for number in range(projects):
        project = Project(ministry="MIC", details={**details, "title": f"P{number:02d}"}, meta=PLANNER)
        for stage in (Stage.procurement, Stage.development)[: number % 3]:
            project.transition(stage, PLANNER)
        registry.save(project)
    return registry


def test_the_rows_are_the_same_whatever_the_batches(database_url: str, tmp_path: Path) -> None:
    seed(database_url, 12)
    store = ReportingStore(Settings(database_url=database_url, var_dir=tmp_path))
    assert ProjectionFollower(store, batch_size=3).catch_up() > 12
    in_small_batches = store.rows()
    store.clear()
    ProjectionFollower(store, batch_size=1000).catch_up()
    assert store.rows() == in_small_batches
    stages = {row[1]: row[4] for row in in_small_batches["reporting_counts"]}
    assert stages == {"planning": 4, "procurement": 4, "development": 4}  # no count left behind at zero


def test_the_answer_at_every_position_equals_a_replay_from_zero_to_it(database_url: str, tmp_path: Path) -> None:
    registry = seed(database_url, 6)
    store = ReportingStore(Settings(database_url=database_url, var_dir=tmp_path))
    ProjectionFollower(store, batch_size=4).catch_up()
    reads = ReportQueries(store)
    for position in range(registry.head_position() + 1):
        replayed = store.replay(registry_position=position)
        with reads.session() as session:
            moment = reads.moment(session, registry_position=position)
            docs = reads.registered(session, moment, Filters(), None, 100)
            count = reads.count(session, moment, Filters(ministry="MIC"))
            state = reads.projection(session, moment, docs)
        assert moment.positions == replayed.positions, position
        assert reports.inventory(state) == reports.inventory(replayed), position
        assert count == len(reports.inventory(replayed)), position


@pytest.mark.parametrize(
    "key",
    [
        ("2026-01-01T00:00:00", "00000000-0000-0000-0000-000000000000"),  # a time without its offset
        ("2026-01-01T00:00:00+00:00", "not an id"),
        ("2026-01-01T00:00:00+00:00",),
        (3, "00000000-0000-0000-0000-000000000000"),
    ],
)
def test_a_registration_cursor_the_service_did_not_issue_is_a_422_naming_it(key: tuple[object, ...]) -> None:
    with pytest.raises(Unprocessable) as refused:
        cursor_key(key)  # type: ignore[arg-type]
    assert refused.value.errors[0]["field"] == "query.cursor"
