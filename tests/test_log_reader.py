"""The generic log reader: a log read from its tables and over its service's HTTP log API gives the same
envelopes, and a follower reading an upstream over HTTP (another organisation's registry) handles it exactly once."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest

from services.registry.contract import REGISTRY
from services.risk.application import RiskApplication
from services.risk.contract import RISK
from services.risk.service import build_registry_follower
from shared.logreader import DatabaseLog, HttpLog, read_all, upstream_log
from shared.settings import Settings
from tests.conftest import fresh_url
from tests.support import ServiceStack, migrated, project_body
from tests.support.scenarios import new_ministry, planner


def registered(stack: ServiceStack) -> str:
    """A ministry with a registered project; returns the project id."""
    code = new_ministry(stack)
    response = planner(stack, code).post("/v1/projects", json=project_body(code, title="Reader test"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def auditor_token(stack: ServiceStack) -> str:
    return stack.token("auditor-1", ["auditor"])


def test_the_tables_and_the_http_api_serve_the_same_envelopes(stack: ServiceStack) -> None:
    registered(stack)
    from_tables = [envelope.as_dict() for envelope in read_all(DatabaseLog(stack.database_url, REGISTRY))]
    over_http = [
        envelope.as_dict()
        for envelope in read_all(HttpLog(stack.url("registry"), REGISTRY, auditor_token(stack)), batch_size=7)
    ]
    assert from_tables and over_http[: len(from_tables)] == from_tables
    assert {envelope["type"] for envelope in from_tables} >= {"MinistryEstablished", "ProjectRegistered"}


def test_an_http_reader_refuses_a_log_of_another_service(stack: ServiceStack) -> None:
    with pytest.raises(ValueError, match="does not serve the risk log"):
        HttpLog(stack.url("registry"), RISK, auditor_token(stack)).envelopes(0, 5)


def test_a_follower_reads_its_upstream_over_http_exactly_once(
    stack: ServiceStack, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A risk service of another organisation: its own database, the registry's log over HTTP."""
    project_id = registered(stack)
    backend = "sqlite" if stack.database_url.startswith("sqlite") else "postgres"
    own_database = migrated(fresh_url(backend, tmp_path, request))
    settings = Settings(
        database_url=own_database,
        registry_log_url=stack.url("registry"),
        log_reader_token=auditor_token(stack),
        var_dir=tmp_path,
    )
    assert isinstance(upstream_log(settings, REGISTRY), HttpLog)
    risk = RiskApplication(own_database)
    follower = build_registry_follower(settings, risk)
    head = follower.upstream.head()
    assert follower.catch_up() == head and follower.position() == head
    assert follower.catch_up() == 0  # nothing is handled twice
    assert risk.find_project_risk(UUID(project_id)) is not None


def test_an_http_upstream_without_a_token_is_refused_at_start(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'a.sqlite3'}", risk_log_url="http://127.0.0.1:9")
    with pytest.raises(ValueError, match="AIGOV_LOG_READER_TOKEN"):
        upstream_log(settings, RISK)
