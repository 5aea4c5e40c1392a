"""The public register: which publication of each project is the latest, and its stage, for the public list.

The read models are derived data: this migration empties them, their history and reporting's tracked positions,
so the reporting follower rebuilds them from position zero (with the publications) when it next starts.

Revision ID: 0007_public_register
Revises: 0010
Create Date: 2026-12-02 20:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_public_register"
down_revision = "0010"
branch_labels = None
depends_on = None

DERIVED = (
    "reporting_projects",
    "reporting_ministries",
    "reporting_aggregates",
    "reporting_project_events",
    "reporting_project_versions",
    "reporting_ministry_versions",
    "reporting_log_clock",
    "reporting_counts",
    "reporting_registrations",
    "reporting_usage_rules",
    "reporting_periodic_submissions",
    "reporting_tracking",
)


def upgrade() -> None:
    for table in DERIVED:
        op.execute(sa.text(f"DELETE FROM {table}"))
    with op.batch_alter_table("reporting_projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("published", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("published_stage", sa.String(length=16), nullable=True))
        batch_op.create_index(
            "reporting_projects_published", ["published", "registered_at", "project_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("reporting_projects", schema=None) as batch_op:
        batch_op.drop_index("reporting_projects_published")
        batch_op.drop_column("published_stage")
        batch_op.drop_column("published")
