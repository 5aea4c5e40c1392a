"""Ministries' usage rules and periodic-report submissions, followed by reporting from the registry log.

The two tables start empty; the reporting follower fills them as it folds the registry log. A reporting database
that already followed the log past such events would miss them, so, like 0005, this migration empties the read
models and reporting's tracked positions: the follower rebuilds everything from position zero on its next start.

Revision ID: 0008_periodic_submissions
Revises: 0005
Create Date: 2026-12-02 20:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_periodic_submissions"
down_revision = "0005"
branch_labels = None
depends_on = None

POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
READ_MODELS = (
    "reporting_projects",
    "reporting_ministries",
    "reporting_aggregates",
    "reporting_project_events",
    "reporting_project_versions",
    "reporting_ministry_versions",
    "reporting_log_clock",
    "reporting_counts",
    "reporting_registrations",
)


def upgrade() -> None:
    for table in (*READ_MODELS, "reporting_tracking"):
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.create_table(
        "reporting_usage_rules",
        sa.Column("ministry", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("position", POSITION, autoincrement=False, nullable=False),
        sa.Column("takes_effect", sa.BigInteger(), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("ministry", "version"),
    )
    with op.batch_alter_table("reporting_usage_rules", schema=None) as batch_op:
        batch_op.create_index("reporting_usage_rules_in_force", ["ministry", "takes_effect", "version"], unique=False)
    op.create_table(
        "reporting_periodic_submissions",
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("ministry", sa.String(length=16), nullable=False),
        sa.Column("position", POSITION, autoincrement=False, nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("period", "ministry", "position"),
    )


def downgrade() -> None:
    op.drop_table("reporting_periodic_submissions")
    with op.batch_alter_table("reporting_usage_rules", schema=None) as batch_op:
        batch_op.drop_index("reporting_usage_rules_in_force")
    op.drop_table("reporting_usage_rules")
