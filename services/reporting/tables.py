"""Reporting's read models: rebuilt only from the registry and risk logs by the reporting followers."""

from sqlalchemy import Column, DateTime, Index, String, Table, Uuid

from shared.schema import metadata, position_column

inventory = Table(
    "reporting_inventory",
    metadata,
    Column("project_id", Uuid(), primary_key=True),
    Column("ministry", String(16), nullable=False),
    Column("title", String(200), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("risk_status", String(32), nullable=False),
    Column("caio_officer_id", String(128), nullable=True),
    Column("caio_name", String(200), nullable=True),
    position_column("registry_position"),
    position_column("risk_position", nullable=True),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("reporting_inventory_ministry", "ministry"),
)

ministry_caios = Table(
    "reporting_ministry_caios",
    metadata,
    Column("ministry", String(16), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("caio_officer_id", String(128), nullable=True),
    Column("caio_name", String(200), nullable=True),
)
