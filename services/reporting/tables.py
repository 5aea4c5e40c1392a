"""Reporting's read models: rebuilt only from the registry and risk logs by the reporting followers.

Each table is written by exactly one follower (registry or risk), so the two logs can be followed
independently and in any relative order; queries join them.
"""

from sqlalchemy import Column, DateTime, Index, String, Table, Uuid

from shared.schema import metadata, position_column

inventory = Table(
    "reporting_inventory",
    metadata,
    Column("project_id", Uuid(), primary_key=True),
    Column("ministry", String(16), nullable=False),
    Column("title", String(200), nullable=False),
    Column("stage", String(16), nullable=False),
    position_column("registry_position"),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("reporting_inventory_ministry", "ministry"),
)

ministries = Table(
    "reporting_ministries",
    metadata,
    Column("ministry", String(16), primary_key=True),
    Column("ministry_id", Uuid(), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("caio_officer_id", String(128), nullable=True),
    Column("caio_name", String(200), nullable=True),
)

project_risk = Table(
    "reporting_project_risk",
    metadata,
    Column("project_id", Uuid(), primary_key=True),
    Column("risk_id", Uuid(), nullable=False, unique=True),
    Column("risk_status", String(32), nullable=False),
    position_column("risk_position"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
