"""Reporting's read models: written only by the reporting projection follower, from the registry and risk logs.

Documents are JSON (the projection's own shape); the columns beside them exist for filtering and joins.
"""

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Integer, String, Table, Text, Uuid

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
    # Columns for reports that filter, order and page in SQL (migration 0005); see services/reporting/history.py.
    Column("registered_at", BigInteger(), nullable=True),  # microseconds since the epoch, UTC
    Column("classification", String(16), nullable=True),
    Column("pending", Integer(), nullable=False, server_default="0"),
    Index("reporting_projects_by_registration", "registered_at", "project_id"),
    Index("reporting_projects_ministry_by_registration", "ministry", "registered_at", "project_id"),
    Index("reporting_projects_classification", "classification", "registered_at", "project_id"),
    Index("reporting_projects_pending", "pending"),
    # The public register (migration 0007_public_register): the latest publication's number and stage.
    Column("published", Integer(), nullable=True),
    Column("published_stage", String(16), nullable=True),
    Index("reporting_projects_published", "published", "registered_at", "project_id"),
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


# -- history (migration 0005): every version of every document, so "as of" is read, not recomputed ----------

project_versions = Table(
    "reporting_project_versions",
    metadata,
    Column("project_id", Uuid(), primary_key=True),
    Column("service", String(16), primary_key=True),  # which log's part: registry, or risk (risk, board, incidents)
    position_column("position", primary_key=True),  # the event that made this version; it holds until the next
    Column("stage", String(16), nullable=True),
    Column("risk_status", String(32), nullable=True),
    Column("classification", String(16), nullable=True),
    Column("doc", Text(), nullable=False),  # the part as JSON text (orjson, sorted keys)
)

ministry_versions = Table(
    "reporting_ministry_versions",
    metadata,
    Column("ministry", String(16), primary_key=True),
    position_column("position", primary_key=True),
    Column("doc", JSON(), nullable=False),
)

log_clock = Table(
    "reporting_log_clock",
    metadata,
    Column("service", String(16), primary_key=True),
    position_column("position", primary_key=True),
    Column("clock", BigInteger(), nullable=False),  # running maximum of occurred_at up to here, microseconds, UTC
    Index("reporting_log_clock_by_time", "service", "clock", "position"),
)

# Counts (migration 0005), so a report's total is a lookup rather than a count over every project.

counts = Table(
    "reporting_counts",
    metadata,
    Column("ministry", String(16), primary_key=True),
    Column("stage", String(16), primary_key=True),
    Column("risk_status", String(32), primary_key=True),
    Column("classification", String(16), primary_key=True),  # "" when not classified
    Column("count", Integer(), nullable=False),
)

registrations = Table(
    "reporting_registrations",
    metadata,
    Column("scope", String(16), primary_key=True),  # a ministry's code, or "*" for every ministry
    position_column("position", primary_key=True),  # the registry position of a registration
    Column("count", Integer(), nullable=False),  # projects registered in the scope up to and including it
)

# Ministries' usage rules and periodic-report submissions (migration 0008), followed from the registry log; kept
# per version with the registry position that issued it, so "as of" reads them like the other history tables.

usage_rules = Table(
    "reporting_usage_rules",
    metadata,
    Column("ministry", String(16), primary_key=True),
    Column("version", Integer(), primary_key=True),
    position_column("position"),  # the registry position of the UsageRulesIssued event
    Column("takes_effect", BigInteger(), nullable=False),  # start of the effective date in Japan, microseconds, UTC
    Column("doc", Text(), nullable=False),  # the version as JSON text (orjson, sorted keys)
    Index("reporting_usage_rules_in_force", "ministry", "takes_effect", "version"),
)

periodic_submissions = Table(
    "reporting_periodic_submissions",
    metadata,
    Column("period", String(8), primary_key=True),
    Column("ministry", String(16), primary_key=True),
    position_column("position", primary_key=True),  # the registry position of the PeriodicReportSubmitted event
    Column("doc", Text(), nullable=False),
)
