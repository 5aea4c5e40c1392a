"""The event log on real storage: metadata in every event, the hash chain, and tamper detection."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from sqlalchemy import text

from services.registry.application import RegistryApplication
from services.registry.domain import Stage
from shared.database import create_engine
from shared.meta import EventMeta
from tests.support import PROJECT_ROOT, project_body

ADMIN = EventMeta("root", "Root", "admin", None, None, "corr-1")
PLANNER = EventMeta("alice", "Alice", "planner", "MIC", None, "corr-2")


def seeded(url: str, projects: int = 3) -> RegistryApplication:
    app = RegistryApplication(url)
    app.establish_ministry("MIC", "Internal Affairs", ADMIN)
    for number in range(projects):
        details = project_body("MIC", title=f"Project {number}")
        details.pop("ministry")
        project = app.register_project("MIC", details, PLANNER)
        app.transition_project(
            project.id, Stage.procurement, EventMeta("alice", "Alice", "planner", "MIC", "budget approved", "corr-3")
        )
    return app


def test_every_event_carries_actor_role_ministry_reason_and_correlation(database_url: str) -> None:
    app = seeded(database_url, projects=1)
    entries = app.read_log(after=0, limit=10)
    assert [entry.type for entry in entries] == ["MinistryEstablished", "ProjectRegistered", "ProjectStageChanged"]
    changed = entries[-1].as_dict()
    assert changed["meta"] == {
        "actor_id": "alice",
        "actor_name": "Alice",
        "actor_role": "planner",
        "ministry": "MIC",
        "reason": "budget approved",
        "correlation_id": "corr-3",
    }
    assert changed["occurred_at"].endswith("+00:00")
    assert changed["schema_version"] == 1
    assert [entry.position for entry in entries] == [1, 2, 3]
    assert all(entry.hash and len(entry.hash) == 64 for entry in entries)


def test_a_fresh_log_verifies_and_names_its_head(database_url: str) -> None:
    app = seeded(database_url)
    result = app.verify_log()
    assert result.ok and result.checked == 7 and result.head_position == 7


def _tamper(url: str, statement: str, **params: object) -> None:
    """What an intruder with database superuser rights would do: disable the append-only guard, edit."""
    engine = create_engine(url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE registry_events DISABLE TRIGGER registry_events_append_only"))
        else:
            connection.execute(text("DROP TRIGGER registry_events_no_update"))
            connection.execute(text("DROP TRIGGER registry_events_no_delete"))
        connection.execute(text(statement), params)
    engine.dispose()


def test_changing_one_byte_of_a_stored_event_is_detected_at_its_position(database_url: str) -> None:
    app = seeded(database_url)
    target = app.read_log(after=4, limit=1)[0]
    edited = bytearray(target.state)
    edited[edited.index(b"procurement")] = ord("P")  # one byte: "procurement" becomes "Procurement"
    _tamper(
        database_url,
        "UPDATE registry_events SET state = :state WHERE id = :id",
        state=bytes(edited),
        id=target.position,
    )

    result = RegistryApplication(database_url).verify_log()
    assert not result.ok and result.first_bad_position == 5 and result.checked == 4

    cli = subprocess.run(
        [sys.executable, "-m", "aigov.cli", "log", "verify", "--service", "registry", "--database-url", database_url],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    )
    assert cli.returncode == 1
    assert '"first_bad_position": 5' in cli.stdout


def test_deleting_an_event_is_detected_at_the_next_position(database_url: str) -> None:
    seeded(database_url)
    _tamper(database_url, "DELETE FROM registry_events WHERE id = 3")
    result = RegistryApplication(database_url).verify_log()
    assert not result.ok and result.first_bad_position == 4


def test_verify_cli_reports_ok_for_an_untouched_log(database_url: str) -> None:
    seeded(database_url)
    cli = subprocess.run(
        [sys.executable, "-m", "aigov.cli", "log", "verify", "--database-url", database_url],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert cli.stdout.count('"ok": true') == 2


def test_concurrent_writers_of_one_project_get_a_conflict_not_a_lost_update(database_url: str) -> None:
    """Two application instances (as two replicas would) both load version 1 and both amend it."""
    from eventsourcing.persistence import IntegrityError

    first = seeded(database_url, projects=1)
    second = RegistryApplication(database_url)
    project_id = first.read_log(after=1, limit=1)[0].aggregate_id
    a = first.get_project(project_id)
    b = second.get_project(project_id)
    a.amend({"title": "Title from A"}, PLANNER)
    b.amend({"title": "Title from B"}, PLANNER)
    first._save_project(a)
    with pytest.raises(IntegrityError):
        second._save_project(b)
    assert RegistryApplication(database_url).get_project(project_id).details["title"] == "Title from A"
    assert first.verify_log().ok


def test_unknown_project_is_not_found(database_url: str) -> None:
    from shared.errors import NotFound

    with pytest.raises(NotFound):
        RegistryApplication(database_url).get_project(uuid.uuid4())
