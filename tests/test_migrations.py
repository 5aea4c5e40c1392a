"""Alembic owns the schema: the migrations build exactly the tables, columns and indexes the code uses."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from aigov.tables import ALL_METADATA
from shared.database import create_engine
from shared.migrate import alembic_config, upgrade
from shared.schema import compare_type


def schema_differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": compare_type})
            return compare_metadata(context, ALL_METADATA)
    finally:
        engine.dispose()


def test_upgrade_head_builds_exactly_the_schema_the_code_uses(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    assert schema_differences(empty_database_url) == []


def test_an_empty_database_differs_from_the_code_schema(empty_database_url: str) -> None:
    """The comparison above is not vacuous: without migrations every table is reported missing."""
    differences = schema_differences(empty_database_url)
    added = {diff[1].name for diff in differences if diff[0] == "add_table"}
    assert {"registry_events", "registry_event_hashes", "reporting_projects", "risk_tracking"} <= added


def test_downgrade_to_base_removes_every_table_and_upgrade_rebuilds_them(empty_database_url: str) -> None:
    from alembic import command

    upgrade(empty_database_url)
    command.downgrade(alembic_config(empty_database_url), "base")
    engine = create_engine(empty_database_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    upgrade(empty_database_url)
    assert schema_differences(empty_database_url) == []


@pytest.mark.parametrize(
    "statement",
    ["UPDATE registry_events SET topic = 'x'", "DELETE FROM registry_events", "DELETE FROM registry_event_hashes"],
)
def test_the_database_refuses_to_rewrite_or_delete_events(database_url: str, statement: str) -> None:
    from services.registry.application import RegistryApplication
    from shared.meta import EventMeta

    RegistryApplication(database_url).establish_ministry(
        "MIC", "Internal Affairs", EventMeta("a", "A", "admin", None, None, "c")
    )
    engine = create_engine(database_url)
    try:
        with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM registry_events")).scalar_one() == 1
    finally:
        engine.dispose()
