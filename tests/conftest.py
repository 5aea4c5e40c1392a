"""Every storage-touching test runs twice: on SQLite and on PostgreSQL. PostgreSQL must be reachable:
when it is not, the PostgreSQL half fails loudly rather than being skipped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy

from tests.support import POSTGRES_URL, PostgresRun, ServiceStack, migrated, running_stack

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def postgres_run() -> Iterator[PostgresRun]:
    run = PostgresRun(POSTGRES_URL)
    try:
        run.create()
    except sqlalchemy.exc.OperationalError as error:
        pytest.fail(
            f"PostgreSQL at {POSTGRES_URL} is unreachable (set AIGOV_TEST_POSTGRES_URL): {error}", pytrace=False
        )
    yield run
    run.drop()


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
