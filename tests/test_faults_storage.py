"""Storage faults: several processes writing one SQLite file at once, and an event store that refuses writes.

* Three registry processes share one database (the embedded SQLite default, and PostgreSQL) and each takes a
  burst of concurrent writes: no client sees "database is locked" or any 5xx, every acknowledged write is in
  the log exactly once, and the hash chain verifies.
* The event store refuses writes. On SQLite the disk is really full: the database lives on a small tmpfs
  that the test fills (a read-only SQLite file cannot be simulated honestly while the services hold it open:
  root ignores file modes and a file system with files open for writing cannot be remounted read-only). On
  PostgreSQL the database is really read-only (``default_transaction_read_only``, as on a standby after a
  fail-over; the services' sessions are dropped as a fail-over would drop them). Writes get 503
  ``storage-unavailable`` with a ``reason``, never 500; nothing is half-written; reads keep working; once
  the fault is cleared, writes work again without restarting the service.
* The classification behind those answers, on real driver errors: storage conditions are 503, bugs stay 500.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from eventsourcing.persistence import InternalError, ProgrammingError

from shared.database import create_engine
from shared.problems import storage_reason
from tests.conftest import fresh_url
from tests.support import (
    PostgresRun,
    ServiceStack,
    list_all,
    migrated,
    new_ministry_code,
    project_body,
    read_whole_log,
    wait_for,
)

pytestmark = pytest.mark.faults
PROCESSES = 3
THREADS_PER_PROCESS = 6
WRITES_PER_PROCESS = 30
STORAGE_UNAVAILABLE = "urn:aigov:problem:storage-unavailable"
#: The registry's event log, its chain links and its query index: what a half-written command would touch.
REGISTRY_TABLES = (
    "registry_events",
    "registry_event_hashes",
    "registry_projects",
    "registry_risk_gate",
    "registry_ministries",
)


def test_three_registry_processes_write_one_database_at_once_without_locked_errors_loss_or_duplicates(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = migrated(fresh_url(backend, tmp_path, request))
    stack = ServiceStack(url, tmp_path)
    replicas = ["registry"] + [f"registry#{n}" for n in range(2, PROCESSES + 1)]
    try:
        for replica in replicas:
            stack.start(replica)
        code = new_ministry_code()
        assert (
            stack.client("registry", stack.token("root", ["admin"]))
            .post("/v1/ministries", json={"code": code, "name": "M"})
            .status_code
            == 201
        )
        token = stack.token("alice", ["planner"], code)

        def register(replica: str, number: int) -> tuple[str, int, dict[str, Any], dict[str, str]]:
            with stack.client(replica, token) as client:
                response = client.post("/v1/projects", json=project_body(code, title=f"{replica} write {number}"))
            return f"{replica} write {number}", response.status_code, response.json(), dict(response.headers)

        # every process gets its burst at the same moment: all writers of the three processes contend for the file
        with ThreadPoolExecutor(max_workers=THREADS_PER_PROCESS * PROCESSES) as pool:
            futures = [
                pool.submit(register, replica, number) for number in range(WRITES_PER_PROCESS) for replica in replicas
            ]
            results = [future.result() for future in futures]

        failures = [(title, status, body) for title, status, body, _ in results if status != 201]
        assert not failures, f"{len(failures)} of {len(results)} writes refused, e.g. {failures[:3]}"
        assert not any("locked" in str(body).lower() for _, _, body, _ in results)
        acknowledged = {body["id"]: title for title, _, body, _ in results}
        assert len(acknowledged) == PROCESSES * WRITES_PER_PROCESS

        auditor = stack.token("aud", ["auditor"])
        for replica in replicas:  # every process sees the same log, and its chain verifies
            log = read_whole_log(stack.client(replica, auditor))
            registered = [entry for entry in log if entry["type"] == "ProjectRegistered"]
            assert sorted(entry["aggregate_id"] for entry in registered) == sorted(acknowledged)  # each exactly once
            assert {entry["aggregate_id"]: entry["data"]["details"]["title"] for entry in registered} == acknowledged
            assert [entry["position"] for entry in log] == list(range(1, len(log) + 1))  # no gap, no repeat
            writers = [entry["data"]["details"]["title"].split(" write ")[0] for entry in registered]
            assert (
                sum(a != b for a, b in zip(writers, writers[1:], strict=False)) >= PROCESSES
            )  # the processes' writes really interleaved
            verification = stack.client(replica, auditor).get("/v1/log/verify").json()
            assert verification["ok"] and verification["checked"] == len(log) == verification["head_position"], (
                verification
            )
        listed = list_all(stack.client("registry", token), "/v1/projects", ministry=code)
        assert sorted(item["id"] for item in listed) == sorted(acknowledged)
        assert all(stack.processes[replica].poll() is None for replica in replicas)
        for replica in replicas:
            assert "database is locked" not in (tmp_path / f"{replica}.log").read_text()
    finally:
        stack.stop_all()


# -- an event store that refuses writes --------------------------------------------------------------------


@contextmanager
def small_disk(directory: Path, size: str = "16m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``directory``: a disk that really fills up (tmpfs keeps no reserve for root)."""
    directory.mkdir()
    try:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)],
            check=True,
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root/CAP_SYS_ADMIN): {error}")
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False, capture_output=True, timeout=30)


class FullDisk:
    """Fills the SQLite database's file system; ``clear`` frees the space again."""

    def __init__(self, database_file: Path):
        self.database_file = database_file
        self.filler = database_file.parent / "filler"

    def inject(self) -> None:
        # fold the WAL into the database and truncate it: the next commit must grow the WAL, i.e. needs space
        with closing(sqlite3.connect(self.database_file, timeout=30)) as connection:
            busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0 and os.path.getsize(f"{self.database_file}-wal") == 0
        chunk = b"\0" * 65536
        with open(self.filler, "wb", buffering=0) as filler:
            while True:
                try:
                    filler.write(chunk)
                except OSError as error:
                    assert error.errno == errno.ENOSPC
                    chunk = chunk[: len(chunk) // 2]
                    if not chunk:
                        break
        assert shutil.disk_usage(self.database_file.parent).free == 0

    def clear(self) -> None:
        self.filler.unlink()


class ReadOnlyDatabase:
    """Makes the PostgreSQL database read-only for every new session and drops the services' sessions, as a
    fail-over to a standby does; ``clear`` makes it writable again (the services' sessions are left alone)."""

    def __init__(self, run: PostgresRun):
        self.run = run

    def _admin(self, sql: str) -> None:
        with self.run.admin_engine.connect() as connection:
            connection.exec_driver_sql(sql)

    def inject(self) -> None:
        self._admin(f'ALTER DATABASE "{self.run.database}" SET default_transaction_read_only = on')
        self._admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
            f"'{self.run.database}' AND pid <> pg_backend_pid()"
        )

    def clear(self) -> None:
        self._admin(f'ALTER DATABASE "{self.run.database}" RESET default_transaction_read_only')


@pytest.fixture
def refusing_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, Any, str]]:
    """(database url, fault, expected reason) for a database that can be made to refuse writes."""
    if backend == "sqlite":
        with small_disk(tmp_path / "disk") as disk:
            url = migrated(f"sqlite:///{disk / 'aigov.sqlite3'}")
            yield url, FullDisk(disk / "aigov.sqlite3"), "full"
    else:
        run: PostgresRun = request.getfixturevalue("postgres_run")
        fault = ReadOnlyDatabase(run)
        try:
            yield migrated(run.fresh_schema_url()), fault, "read-only"
        finally:
            fault.clear()


def table_counts(url: str) -> dict[str, int]:
    engine = create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as connection:
            return {
                table: connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
                for table in REGISTRY_TABLES
            }
    finally:
        engine.dispose()


def test_an_event_store_that_refuses_writes_gives_503_with_a_reason_writes_nothing_and_recovers_without_restart(
    refusing_store: tuple[str, Any, str], tmp_path: Path
) -> None:
    url, fault, reason = refusing_store
    stack = ServiceStack(url, tmp_path)  # logs and lock files stay on the roomy disk
    try:
        stack.start("registry")
        code = new_ministry_code()
        admin = stack.client("registry", stack.token("root", ["admin"]))
        assert admin.post("/v1/ministries", json={"code": code, "name": "M"}).status_code == 201
        planner = stack.client("registry", stack.token("alice", ["planner"], code))
        auditor = stack.client("registry", stack.token("aud", ["auditor"]))
        project = planner.post("/v1/projects", json=project_body(code)).json()
        before = table_counts(url)
        head = auditor.get("/v1/log", params={"limit": 1}).json()["head_position"]

        fault.inject()
        try:
            # reads still work (the first read after dropped sessions may itself be refused while the pool reconnects)
            wait_for(lambda: planner.get(f"/v1/projects/{project['id']}").status_code == 200, timeout=15, interval=0.2)
            refused = [
                planner.post("/v1/projects", json=project_body(code, title="Refused")),
                planner.patch(
                    f"/v1/projects/{project['id']}",
                    json={"reason": "r", "title": "Refused"},
                    headers={"If-Match": '"1"'},
                ),
                admin.post("/v1/ministries", json={"code": new_ministry_code(), "name": "Refused"}),
            ]
            for response in refused:
                assert response.status_code == 503, response.text
                assert response.headers["content-type"].startswith("application/problem+json")
                assert int(response.headers["Retry-After"]) > 0
                body = response.json()
                assert body["type"] == STORAGE_UNAVAILABLE and body["reason"] == reason, body
                assert "nothing was recorded" in body["detail"]
            assert planner.get(f"/v1/projects/{project['id']}").json()["version"] == 1
            assert len(planner.get("/v1/projects", params={"ministry": code}).json()["items"]) == 1
            assert auditor.get("/v1/log", params={"limit": 1}).json()["head_position"] == head
            assert auditor.get("/v1/log/verify").json()["ok"]
            assert table_counts(url) == before  # nothing half-written: no event, link or index row
        finally:
            fault.clear()

        created = wait_for(
            lambda: (
                (r := planner.post("/v1/projects", json=project_body(code, title="After"))).status_code == 201 and r
            ),
            timeout=15,
            interval=0.5,
        )
        assert (
            planner.patch(
                f"/v1/projects/{project['id']}", json={"reason": "r", "title": "Amended"}, headers={"If-Match": '"1"'}
            ).status_code
            == 200
        )
        assert stack.processes["registry"].poll() is None  # the same process, never restarted
        after = table_counts(url)
        assert after["registry_projects"] == before["registry_projects"] + 1
        assert after["registry_events"] == after["registry_event_hashes"] == before["registry_events"] + 2
        log = read_whole_log(auditor)
        assert [entry["aggregate_id"] for entry in log if entry["type"] == "ProjectRegistered"].count(
            created.json()["id"]
        ) == 1
        assert auditor.get("/v1/log/verify").json()["ok"]
    finally:
        stack.stop_all()


def _raised(statement: Any) -> BaseException:
    try:
        statement()
    except Exception as error:  # noqa: BLE001 - the error is what we classify
        return error
    raise AssertionError("no error raised")


def test_storage_reason_tells_storage_conditions_from_bugs_on_real_driver_errors(
    tmp_path: Path, postgres_run: PostgresRun
) -> None:
    """Read-only and full stores are 503 with their reason; a constraint or syntax error stays a bug (500)."""
    database = tmp_path / "probe.sqlite3"
    with closing(sqlite3.connect(database)) as connection:
        connection.execute("CREATE TABLE t (x INTEGER PRIMARY KEY, pad BLOB)")
        connection.execute("INSERT INTO t VALUES (1, NULL)")
        connection.commit()
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as read_only:
        assert storage_reason(_raised(lambda: read_only.execute("INSERT INTO t VALUES (2, NULL)"))) == "read-only"
    with closing(sqlite3.connect(database)) as capped:
        capped.execute("PRAGMA max_page_count = 3")
        assert storage_reason(_raised(lambda: capped.execute("INSERT INTO t VALUES (3, randomblob(100000))"))) == "full"
        assert (
            storage_reason(_raised(lambda: capped.execute("INSERT INTO t VALUES (1, NULL)"))) is None
        )  # constraint: a conflict, not storage

    engine = sqlalchemy.create_engine(postgres_run.url, poolclass=sqlalchemy.pool.NullPool)
    try:

        def read_only_create() -> None:
            with engine.begin() as connection:
                connection.exec_driver_sql("SET TRANSACTION READ ONLY")
                connection.exec_driver_sql("CREATE TABLE refused (x int)")

        def syntax_error() -> None:
            with engine.begin() as connection:
                connection.exec_driver_sql("SELEC 1")

        refused = _raised(read_only_create)
        assert storage_reason(refused) == "read-only" and storage_reason(InternalError(refused)) == "read-only"
        assert storage_reason(ProgrammingError(_raised(syntax_error))) is None
    finally:
        engine.dispose()
