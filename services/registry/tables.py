"""The registry's query index: kept in the same transaction as the events it summarises.

Lists (`GET /v1/projects?ministry=&stage=`, `GET /v1/ministries`) need an index; writing it in the
command's own transaction gives REST clients read-your-writes. The events stay the source of truth and the
index can be rebuilt from them (``aigov registry reindex``).
"""

from sqlalchemy import Boolean, Column, DateTime, Index, Integer, String, Table, Uuid

from shared.schema import metadata, position_column

projects = Table(
    "registry_projects",
    metadata,
    Column("project_id", Uuid(), primary_key=True),
    Column("ministry", String(16), nullable=False),
    Column("title", String(200), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("version", Integer(), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("registry_projects_ministry_stage", "ministry", "stage"),
)

ministries = Table(
    "registry_ministries",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("caio_officer_id", String(128), nullable=True),
    Column("caio_name", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: What the registry knows of each project's risk outcome, followed from the risk log: the gate before operation.
risk_gate = Table(
    "registry_risk_gate",
    metadata,
    Column("project_id", Uuid(), primary_key=True),
    Column("risk_id", Uuid(), nullable=False, unique=True),
    Column("classification", String(16), nullable=True),
    Column("classification_current", Boolean(), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("board_advice_recorded", Boolean(), nullable=False),
    Column("decision", String(32), nullable=True),
    position_column("classified_registry_position", nullable=True),
    position_column("last_material_position", nullable=True),
    position_column("risk_position", nullable=True),
)

#: Published check sheet versions (the events hold the content): what `GET /v1/check-sheets` lists.
check_sheets = Table(
    "registry_check_sheets",
    metadata,
    Column("sheet_id", String(64), primary_key=True),
    Column("version", Integer(), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("title_en", String(2000), nullable=False),
    Column("title_ja", String(2000), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    position_column("position", nullable=False),
    Index("registry_check_sheets_kind", "kind", "position"),
)
