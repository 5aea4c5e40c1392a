"""Group commit (issue 14, item 5) on real storage, both databases: saves of concurrent commands queued while
another is recorded go into the log together, in one transaction, and each is still checked and answered on
its own: one refused (a concurrent change of the same aggregate, a failing guard, an unknown ministry) gets its
own error and leaves nothing, the others are recorded, and the log's chain and Merkle tree verify after.

The batch is made deterministic by holding the lock of whoever records (as a save in progress would) while the
commands queue."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, PersistenceError
from sqlalchemy import text

from services.registry.application import RegistryApplication
from services.registry.domain import Stage
from shared.errors import InvalidInput
from shared.eventlog import ConcurrentChange
from shared.meta import EventMeta
from tests.support import project_body

ADMIN = EventMeta("root", "Root", "admin", None, None, "corr-1")
PLANNER = EventMeta("alice", "Alice", "planner", "MIC", "budget approved", "corr-2")


def application(url: str) -> tuple[RegistryApplication, list[int]]:
    app = RegistryApplication(url)
    batches: list[int] = []
    app.on_batch = batches.append
    app.enable_group_commit()
    app.establish_ministry("MIC", "Internal Affairs", ADMIN)
    return app, batches


def details(title: str) -> dict[str, Any]:
    body = project_body("MIC", title=title)
    body.pop("ministry")
    return body


def queued_together(app: RegistryApplication, commands: list[Callable[[], Any]]) -> list[Any]:
    """Run the commands in threads while a save is being recorded, so that all of them queue; then let the next
    batch record them. Each command's result, or the exception it raised."""
    assert app.group_commit is not None
    outcomes: list[Any] = [None] * len(commands)

    def run(index: int, command: Callable[[], Any]) -> None:
        try:
            outcomes[index] = command()
        except Exception as error:  # noqa: BLE001 - the outcome under test
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i, command)) for i, command in enumerate(commands)]
    with app.group_commit.recording:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while app.group_commit.queued() < len(commands):
            assert time.monotonic() < deadline, "the commands did not all queue"
            time.sleep(0.005)
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_saves_queued_meanwhile_are_recorded_in_one_batch_each_answered_and_the_log_verifies(database_url: str) -> None:
    app, batches = application(database_url)
    head = app.head_position()
    titles = [f"Project {number}" for number in range(6)]
    projects = queued_together(app, [lambda title=title: app.register_project("MIC", details(title), PLANNER)
                                     for title in titles])  # fmt: skip
    assert batches[-1] == 6
    assert sorted(app.get_project(project.id).details["title"] for project in projects) == titles
    assert app.head_position() == head + 6
    entries = app.read_log(after=head, limit=10)
    assert [entry.type for entry in entries] == ["ProjectRegistered"] * 6
    checked = app.check_log([])
    assert checked.chain.ok and checked.chain.head_position == head + 6
    assert checked.tree is not None and checked.tree.ok and checked.tree.tree_size == head + 6


def test_a_save_refused_in_a_batch_gets_its_own_error_and_leaves_nothing_while_the_others_are_recorded(
    database_url: str,
) -> None:
    app, batches = application(database_url)
    project = app.register_project("MIC", details("Contested"), PLANNER)
    head = app.head_position()
    first, second = app.get_project(project.id), app.get_project(project.id)  # both read version 1

    def refused(session: Any) -> None:
        raise ConcurrentChange("what the command rested on changed")

    guarded = app.get_project(app.register_project("MIC", details("Guarded"), PLANNER).id)
    guarded.transition(Stage.procurement, PLANNER)
    head += 1
    first.transition(Stage.procurement, PLANNER)
    second.transition(Stage.retired, PLANNER)
    outcomes = queued_together(
        app,
        [
            lambda: app.save(first),
            lambda: app.save(second),  # the same aggregate at the same version: a concurrent change
            lambda: app.save(guarded, guard=refused),
            lambda: app.register_project("NOPE", details("Nowhere"), PLANNER),  # its guard: no such ministry
            lambda: app.register_project("MIC", details("Bystander"), PLANNER),
        ],
    )
    assert batches[-1] == 5
    assert isinstance(outcomes[0], list) and len(outcomes[0]) == 1
    assert isinstance(outcomes[1], IntegrityError)
    assert isinstance(outcomes[2], ConcurrentChange)
    assert isinstance(outcomes[3], InvalidInput)
    assert outcomes[4].details["title"] == "Bystander"
    assert app.get_project(project.id).stage == Stage.procurement
    assert app.get_project(guarded.id).stage == Stage.planning
    entries = app.read_log(after=head, limit=10)
    assert [(entry.type, entry.aggregate_id) for entry in entries] == [
        ("ProjectStageChanged", project.id),
        ("ProjectRegistered", outcomes[4].id),
    ]
    assert app.check_log([]).chain.ok


def test_a_save_alone_is_recorded_in_its_own_transaction_as_without_group_commit(database_url: str) -> None:
    app, batches = application(database_url)
    app.register_project("MIC", details("Alone"), PLANNER)
    assert batches[-1] == 1
    with pytest.raises(InvalidInput):
        app.register_project("NOPE", details("Nowhere"), PLANNER)
    assert batches[-1] == 1
    assert [entry.type for entry in app.read_log(after=0, limit=10)] == ["MinistryEstablished", "ProjectRegistered"]


def test_a_failure_of_the_database_inside_a_batch_fails_the_whole_batch_and_records_nothing(database_url: str) -> None:
    """A statement the database refuses (here a guard reading a table that does not exist; in production a lost
    connection) leaves the transaction unusable: every save of the batch gets the database's error, which the web
    layer answers 503 (never a 500 from a half-committed batch), and nothing of the batch is recorded."""
    app, batches = application(database_url)
    head = app.head_position()

    def broken(session: Any) -> None:
        session.execute(text("SELECT * FROM no_such_table"))

    def register(title: str) -> Callable[[], Any]:
        return lambda: app.register_project("MIC", details(title), PLANNER)

    broken_project = app.get_project(app.register_project("MIC", details("Broken"), PLANNER).id)
    broken_project.transition(Stage.procurement, PLANNER)
    head += 1
    outcomes = queued_together(
        app, [register("Before"), lambda: app.save(broken_project, guard=broken), register("After")]
    )
    assert batches[-1] == 3
    assert isinstance(outcomes[0], PersistenceError) and outcomes[0] is outcomes[1] is outcomes[2], outcomes
    assert app.head_position() == head
    assert app.register_project("MIC", details("Next"), PLANNER).details["title"] == "Next"
    assert app.check_log([]).chain.ok
