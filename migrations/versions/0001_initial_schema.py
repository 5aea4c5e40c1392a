"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
import sqlalchemy_utils
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("originator_id", sqlalchemy_utils.types.uuid.UUIDType(), nullable=False),
        sa.Column("originator_version", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("registry_events", schema=None) as batch_op:
        batch_op.create_index("registry_events_aggregate_idx", ["originator_id", "originator_version"], unique=True)

    op.create_table(
        "registry_snapshots",
        sa.Column("originator_id", sqlalchemy_utils.types.uuid.UUIDType(), nullable=False),
        sa.Column("originator_version", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("originator_id", "originator_version"),
    )
    op.create_table(
        "registry_tracking",
        sa.Column("application_name", sa.String(length=32), nullable=False),
        sa.Column("notification_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.PrimaryKeyConstraint("application_name"),
    )
    op.create_table(
        "reporting_tracking",
        sa.Column("application_name", sa.String(length=32), nullable=False),
        sa.Column("notification_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.PrimaryKeyConstraint("application_name"),
    )
    op.create_table(
        "risk_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("originator_id", sqlalchemy_utils.types.uuid.UUIDType(), nullable=False),
        sa.Column("originator_version", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("risk_events", schema=None) as batch_op:
        batch_op.create_index("risk_events_aggregate_idx", ["originator_id", "originator_version"], unique=True)

    op.create_table(
        "risk_snapshots",
        sa.Column("originator_id", sqlalchemy_utils.types.uuid.UUIDType(), nullable=False),
        sa.Column("originator_version", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("originator_id", "originator_version"),
    )
    op.create_table(
        "risk_tracking",
        sa.Column("application_name", sa.String(length=32), nullable=False),
        sa.Column("notification_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.PrimaryKeyConstraint("application_name"),
    )
    op.create_table(
        "registry_event_hashes",
        sa.Column(
            "position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("position"),
    )
    op.create_table(
        "registry_ministries",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("caio_officer_id", sa.String(length=128), nullable=True),
        sa.Column("caio_name", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "registry_projects",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("ministry", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("project_id"),
    )
    with op.batch_alter_table("registry_projects", schema=None) as batch_op:
        batch_op.create_index("registry_projects_ministry_stage", ["ministry", "stage"], unique=False)

    op.create_table(
        "registry_risk_gate",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("risk_id", sa.Uuid(), nullable=False),
        sa.Column("classification", sa.String(length=16), nullable=True),
        sa.Column("classification_current", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("board_advice_recorded", sa.Boolean(), nullable=False),
        sa.Column("decision", sa.String(length=32), nullable=True),
        sa.Column(
            "classified_registry_position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=True,
        ),
        sa.Column(
            "last_material_position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=True,
        ),
        sa.Column(
            "risk_position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=True
        ),
        sa.PrimaryKeyConstraint("project_id"),
        sa.UniqueConstraint("risk_id"),
    )
    op.create_table(
        "reporting_aggregates",
        sa.Column("aggregate_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("aggregate_id"),
    )
    op.create_table(
        "reporting_checkpoints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column(
            "head_position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "reporting_ministries",
        sa.Column("ministry", sa.String(length=16), nullable=False),
        sa.Column("ministry_id", sa.Uuid(), nullable=False),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("ministry"),
        sa.UniqueConstraint("ministry_id"),
    )
    op.create_table(
        "reporting_project_events",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column(
            "position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.PrimaryKeyConstraint("project_id", "service", "position"),
    )
    op.create_table(
        "reporting_projects",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("ministry", sa.String(length=16), nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=True),
        sa.Column("risk_status", sa.String(length=32), nullable=False),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("project_id"),
    )
    with op.batch_alter_table("reporting_projects", schema=None) as batch_op:
        batch_op.create_index("reporting_projects_ministry", ["ministry"], unique=False)

    op.create_table(
        "risk_assessments",
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("ministry", sa.String(length=16), nullable=False),
        sa.Column("ruleset_id", sa.String(length=64), nullable=False),
        sa.Column("ruleset_version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("assessment_id"),
    )
    with op.batch_alter_table("risk_assessments", schema=None) as batch_op:
        batch_op.create_index("risk_assessments_project", ["project_id"], unique=False)

    op.create_table(
        "risk_event_hashes",
        sa.Column(
            "position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("position"),
    )
    op.create_table(
        "risk_ministry_caios",
        sa.Column("ministry_id", sa.Uuid(), nullable=False),
        sa.Column("ministry", sa.String(length=16), nullable=False),
        sa.Column("caio_officer_id", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("ministry_id"),
        sa.UniqueConstraint("ministry"),
    )
    op.create_table(
        "risk_rulesets",
        sa.Column("ruleset_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ruleset_id", "version"),
    )
    op.create_table(
        "risk_submissions",
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("ministry", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("submission_id"),
    )
    with op.batch_alter_table("risk_submissions", schema=None) as batch_op:
        batch_op.create_index("risk_submissions_status", ["status", "submitted_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("risk_submissions", schema=None) as batch_op:
        batch_op.drop_index("risk_submissions_status")

    op.drop_table("risk_submissions")
    op.drop_table("risk_rulesets")
    op.drop_table("risk_ministry_caios")
    op.drop_table("risk_event_hashes")
    with op.batch_alter_table("risk_assessments", schema=None) as batch_op:
        batch_op.drop_index("risk_assessments_project")

    op.drop_table("risk_assessments")
    with op.batch_alter_table("reporting_projects", schema=None) as batch_op:
        batch_op.drop_index("reporting_projects_ministry")

    op.drop_table("reporting_projects")
    op.drop_table("reporting_project_events")
    op.drop_table("reporting_ministries")
    op.drop_table("reporting_checkpoints")
    op.drop_table("reporting_aggregates")
    op.drop_table("registry_risk_gate")
    with op.batch_alter_table("registry_projects", schema=None) as batch_op:
        batch_op.drop_index("registry_projects_ministry_stage")

    op.drop_table("registry_projects")
    op.drop_table("registry_ministries")
    op.drop_table("registry_event_hashes")
    op.drop_table("risk_tracking")
    op.drop_table("risk_snapshots")
    with op.batch_alter_table("risk_events", schema=None) as batch_op:
        batch_op.drop_index("risk_events_aggregate_idx")

    op.drop_table("risk_events")
    op.drop_table("reporting_tracking")
    op.drop_table("registry_tracking")
    op.drop_table("registry_snapshots")
    with op.batch_alter_table("registry_events", schema=None) as batch_op:
        batch_op.drop_index("registry_events_aggregate_idx")

    op.drop_table("registry_events")
