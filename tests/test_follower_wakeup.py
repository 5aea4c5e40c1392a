"""An idle follower is woken by the commit it follows, not by its next poll.

Why: propagation from a write to the other services' read models was bounded below by the poll interval on
SQLite, which has no LISTEN/NOTIFY (issue 14's propagation target). Here the services run with a poll interval
of ten minutes, so every write below reaches risk and reporting within the test's wait only because a commit
woke their followers: PostgreSQL's NOTIFY, or on SQLite inotify's report of the commit's write
(``shared.wakeup.CommitWatch``). The writes go to the registry only, and the reads carry no ``Aigov-After``, so
no request nudges a follower either.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.database import sqlite_file
from shared.wakeup import CommitWatch
from tests.conftest import BACKENDS, fresh_url
from tests.support import ServiceStack, current, migrated, new_ministry_code, project_body, running_stack, wait_for

TEN_MINUTES = "600"


@pytest.fixture(scope="module", params=BACKENDS)
def slow_polling(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceStack]:
    directory = tmp_path_factory.mktemp(f"wakeup-{request.param}")
    url = migrated(fresh_url(request.param, directory, request))
    with running_stack(url, directory, extra_env={"AIGOV_FOLLOWER_POLL_INTERVAL": TEN_MINUTES}) as stack:
        yield stack


def test_writes_reach_risk_and_reporting_without_waiting_for_a_poll(slow_polling: ServiceStack) -> None:
    stack, code = slow_polling, new_ministry_code()
    admin = stack.client("registry", stack.token("root", ["admin"]))
    assert admin.post("/v1/ministries", json={"code": code, "name": f"Ministry {code}"}).status_code == 201
    caio = {"officer_id": f"caio-{code.lower()}", "name": "Chie Sato", "reason": "appointed"}
    designated = admin.put(f"/v1/ministries/{code}/caio", headers=current(admin, f"/v1/ministries/{code}"), json=caio)
    assert designated.status_code == 200, designated.text
    planner = stack.client("registry", stack.token("alice", ["planner"], code))
    auditor = stack.client("reporting", stack.token("audrey", ["auditor"]))
    risk = stack.client("risk", stack.token("alice", ["planner"], code))

    for number in range(3):  # each write after the followers went idle again
        registered = planner.post("/v1/projects", json=project_body(code, title=f"Woken {number}"))
        assert registered.status_code == 201, registered.text
        project_id = registered.json()["id"]
        risk_record, state = f"/v1/projects/{project_id}/risk", f"/v1/audit/projects/{project_id}/state"
        wait_for(lambda path=risk_record: risk.get(path).status_code == 200, timeout=30)
        wait_for(lambda path=state: auditor.get(path).status_code == 200, timeout=30)
        time.sleep(0.5)


def test_a_commit_watch_wakes_on_a_commit_to_the_watched_database_or_a_nudge_only(tmp_path: Path) -> None:
    watched, other = tmp_path / "watched.sqlite3", tmp_path / "other.sqlite3"
    for path in (watched, other):
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("CREATE TABLE t (x INTEGER)")
    watch = CommitWatch.of([f"sqlite:///{watched}", "postgresql://postgres@127.0.0.1/test"])
    assert watch is not None and watch.database_files == {watched.resolve()}
    try:
        with sqlite3.connect(other) as connection:
            connection.execute("INSERT INTO t VALUES (1)")
        assert not watch.wait(1.0), "a commit to another database woke the follower"
        with sqlite3.connect(watched) as connection:
            connection.execute("INSERT INTO t VALUES (1)")
        assert watch.wait(30), "the commit did not wake the follower"
        threading.Timer(0.2, watch.set).start()
        assert watch.wait(30), "the nudge did not wake the follower"
        watch.clear()
        assert not watch.wait(0.5), "a nudge answered and cleared woke the follower again"
    finally:
        watch.close()
    watch.set()  # a nudge after the watch closed is dropped, not written to a reused descriptor


def test_only_a_sqlite_file_is_watched() -> None:
    assert sqlite_file("postgresql://postgres@127.0.0.1:5432/test") is None
    assert sqlite_file("sqlite://") is None and sqlite_file("sqlite:///:memory:") is None
    assert sqlite_file("sqlite:////srv/aigov/aigov.sqlite3") == Path("/srv/aigov/aigov.sqlite3")
    assert CommitWatch.of(["postgresql://postgres@127.0.0.1:5432/test"]) is None
