"""Reporting's read models: written only by the reporting projection follower, from the registry and risk logs.

Documents are JSON (the projection's own shape); the columns beside them exist for filtering and joins.
"""

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table, Text, Uuid

from shared.schema import metadata, position_column

projects = Table(
    "reporting_projects",
    metadata,
    Column("project_id", Uuid(), primary_key=True),
    Column("ministry", String(16), nullable=True),
    Column("stage", String(16), nullable=True),
    Column("risk_status", String(32), nullable=False),
    Column("doc", JSON(), nullable=False),
    Index("reporting_projects_ministry", "ministry"),
)

ministries = Table(
    "reporting_ministries",
    metadata,
    Column("ministry", String(16), primary_key=True),
    Column("ministry_id", Uuid(), nullable=False, unique=True),
    Column("doc", JSON(), nullable=False),
)

aggregates = Table(
    "reporting_aggregates",
    metadata,
    Column("aggregate_id", Uuid(), primary_key=True),
    Column("project_id", Uuid(), nullable=False),
)

project_events = Table(
    "reporting_project_events",
    metadata,
    Column("project_id", Uuid(), primary_key=True),
    Column("service", String(16), primary_key=True),
    position_column("position", primary_key=True),
)

checkpoints = Table(
    "reporting_checkpoints",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("service", String(16), nullable=False),
    position_column("head_position"),
    Column("head_hash", String(64), nullable=False),
    Column("taken_at", DateTime(timezone=True), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("signature", Text(), nullable=False),
)
