"""Reporting history: every version of each document, the logs' clocks, and columns reports page on in SQL.

The read models are derived data: this migration empties them and reporting's tracked positions, so the
reporting follower rebuilds them (with their history) from position zero when it next starts.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-02 15:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
READ_MODELS = ("reporting_projects", "reporting_ministries", "reporting_aggregates", "reporting_project_events")


def upgrade() -> None:
    for table in (*READ_MODELS, "reporting_tracking"):
        op.execute(sa.text(f"DELETE FROM {table}"))
    with op.batch_alter_table("reporting_projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("registered_at", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("classification", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("pending", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index("reporting_projects_by_registration", ["registered_at", "project_id"], unique=False)
        batch_op.create_index(
            "reporting_projects_ministry_by_registration", ["ministry", "registered_at", "project_id"], unique=False
        )
        batch_op.create_index(
            "reporting_projects_classification", ["classification", "registered_at", "project_id"], unique=False
        )
        batch_op.create_index("reporting_projects_pending", ["pending"], unique=False)
    op.create_table(
        "reporting_project_versions",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("position", POSITION, autoincrement=False, nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=True),
        sa.Column("risk_status", sa.String(length=32), nullable=True),
        sa.Column("classification", sa.String(length=16), nullable=True),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "service", "position"),
    )
    op.create_table(
        "reporting_ministry_versions",
        sa.Column("ministry", sa.String(length=16), nullable=False),
        sa.Column("position", POSITION, autoincrement=False, nullable=False),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("ministry", "position"),
    )
    op.create_table(
        "reporting_log_clock",
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("position", POSITION, autoincrement=False, nullable=False),
        sa.Column("clock", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("service", "position"),
    )
    with op.batch_alter_table("reporting_log_clock", schema=None) as batch_op:
        batch_op.create_index("reporting_log_clock_by_time", ["service", "clock", "position"], unique=False)
    op.create_table(
        "reporting_counts",
        sa.Column("ministry", sa.String(length=16), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("risk_status", sa.String(length=32), nullable=False),
        sa.Column("classification", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("ministry", "stage", "risk_status", "classification"),
    )
    op.create_table(
        "reporting_registrations",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("position", POSITION, autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "position"),
    )


def downgrade() -> None:
    op.drop_table("reporting_registrations")
    op.drop_table("reporting_counts")
    op.drop_table("reporting_log_clock")
    op.drop_table("reporting_ministry_versions")
    op.drop_table("reporting_project_versions")
    with op.batch_alter_table("reporting_projects", schema=None) as batch_op:
        batch_op.drop_index("reporting_projects_pending")
        batch_op.drop_index("reporting_projects_classification")
        batch_op.drop_index("reporting_projects_ministry_by_registration")
        batch_op.drop_index("reporting_projects_by_registration")
        batch_op.drop_column("pending")
        batch_op.drop_column("classification")
        batch_op.drop_column("registered_at")
