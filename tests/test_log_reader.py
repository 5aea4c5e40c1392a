"""The generic log reader: a log read from its tables and over its service's HTTP log API gives the same
envelopes, and a follower reading an upstream over HTTP (another organisation's registry) handles it exactly once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Engine, select, text

from services.registry.contract import REGISTRY
from services.risk.application import RiskApplication
from services.risk.contract import RISK
from services.risk.service import build_registry_follower
from shared.database import create_engine
from shared.logreader import DatabaseLog, HttpLog, linked_after, read_all, stored_pages, upstream_log
from shared.schema import EVENT_HASH_TABLES, library_metadata
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


def _synthetic_log(engine: Engine, events: int) -> None:
    """``events`` stored events with their links, written straight to the tables (what is read is the point here,
    not what the events say)."""
    table, links = library_metadata.tables["registry_events"], EVENT_HASH_TABLES["registry"]
    rows = [
        {"originator_id": uuid4(), "originator_version": 1, "topic": "t:Registered", "state": b"{}"}
        for _ in range(events)
    ]
    with engine.begin() as connection:
        connection.execute(table.insert(), rows)
        positions = connection.execute(select(table.c.id).order_by(table.c.id)).scalars().all()
        connection.execute(links.insert(), [{"position": position, "hash": "0" * 64} for position in positions])
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"ANALYZE {table.name}; ANALYZE {links.name}"))


def test_a_page_at_the_head_reads_only_its_own_links(database_url: str) -> None:
    """A page of events after position P joins the links after P only: before the links' own bound, PostgreSQL's
    merge join walked the links' index from position 1 on every page, so each page (and each follower's read at
    the head) cost the whole log. Read off the database's own plan of a page at the head of a 5,000-event log."""
    engine = create_engine(database_url)
    _synthetic_log(engine, 5000)
    table, links = library_metadata.tables["registry_events"], EVENT_HASH_TABLES["registry"]
    page = (
        select(table.c.id, links.c.hash)
        .select_from(linked_after(table, links, 4500))
        .where(table.c.id > 4500)
        .order_by(table.c.id)
        .limit(100)
    )
    sql = str(page.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            plan = connection.execute(text(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")).scalar_one()
            link_scans = [node for node in _plan_nodes(plan[0]["Plan"]) if node.get("Relation Name") == links.name]
            assert link_scans and all(node["Actual Rows"] * node["Actual Loops"] <= 101 for node in link_scans), plan
        else:
            steps = [row[-1] for row in connection.execute(text(f"EXPLAIN QUERY PLAN {sql}"))]
            assert not [step for step in steps if step.startswith("SCAN")], steps
    engine.dispose()


def _plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


def test_pages_hold_every_event_once_in_log_order_each_within_the_batch_size(database_url: str) -> None:
    """Whatever the page sizes (on PostgreSQL they grow from a small first page), the pages after a position
    are every later event once, in order."""
    engine = create_engine(database_url)
    _synthetic_log(engine, 5000)
    pages = list(stored_pages(engine, "registry", batch_size=1500, after=250))
    positions = [row[0] for page in pages for row in page]
    assert positions == list(range(251, 5001))
    assert all(0 < len(page) <= 1500 for page in pages) and len(pages) >= 4
    assert all(row[-1] == "0" * 64 for page in pages for row in page)
    engine.dispose()


def test_a_caller_that_stops_early_leaves_no_reader_behind(database_url: str) -> None:
    """A verification that stops at its first bad page ends its reader thread too (on PostgreSQL the reader
    is blocked on its full read-ahead queue when the caller leaves)."""
    engine = create_engine(database_url)
    _synthetic_log(engine, 5000)
    pages = stored_pages(engine, "registry", batch_size=500)
    assert len(next(pages)) == 500
    pages.close()
    assert not [thread for thread in threading.enumerate() if thread.name == "registry-log-reader"]
    engine.dispose()


def test_a_failed_read_is_raised_to_the_caller(empty_database_url: str) -> None:
    """A read that fails (here: no tables at all) fails the caller with the database's own error, raised in
    the caller's thread, not a silent end of the log."""
    engine = create_engine(empty_database_url)
    with pytest.raises(Exception, match="registry_events") as raised:
        list(stored_pages(engine, "registry"))
    assert type(raised.value).__module__.split(".")[0] in {"psycopg", "sqlite3"}
    engine.dispose()
