"""The risk service's query indexes, written in the same transaction as the events they summarise,
and the ministries' current CAIO as followed from the registry log (to check CAIO designations)."""

from sqlalchemy import Column, DateTime, Index, Integer, String, Table, Uuid

from shared.schema import metadata

rulesets = Table(
    "risk_rulesets",
    metadata,
    Column("ruleset_id", String(64), primary_key=True),
    Column("version", Integer(), primary_key=True),
    Column("content_hash", String(64), nullable=False),
    Column("title", String(200), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
)

assessments = Table(
    "risk_assessments",
    metadata,
    Column("assessment_id", Uuid(), primary_key=True),
    Column("project_id", Uuid(), nullable=False),
    Column("ministry", String(16), nullable=False),
    Column("ruleset_id", String(64), nullable=False),
    Column("ruleset_version", Integer(), nullable=False),
    Column("state", String(16), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Index("risk_assessments_project", "project_id"),
)

submissions = Table(
    "risk_submissions",
    metadata,
    Column("submission_id", Uuid(), primary_key=True),
    Column("project_id", Uuid(), nullable=False),
    Column("ministry", String(16), nullable=False),
    Column("status", String(32), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=True),
    Index("risk_submissions_status", "status", "submitted_at"),
)

incidents = Table(
    "risk_incidents",
    metadata,
    Column("incident_id", Uuid(), primary_key=True),
    Column("project_id", Uuid(), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("risk_incidents_project", "project_id", "recorded_at"),
)

ministry_caios = Table(
    "risk_ministry_caios",
    metadata,
    Column("ministry_id", Uuid(), primary_key=True),
    Column("ministry", String(16), nullable=False, unique=True),
    Column("caio_officer_id", String(128), nullable=True),
)
