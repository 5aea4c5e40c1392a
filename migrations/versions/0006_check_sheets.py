"""Check sheets: the registry's index of published check sheet versions (the events hold their content).

Revision ID: 0006_check_sheets
Revises: 0007_public_register (re-chained after main's migrations on merging main)
Create Date: 2026-12-02 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_check_sheets"
down_revision = "0007_public_register"
branch_labels = None
depends_on = None

POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "registry_check_sheets",
        sa.Column("sheet_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title_en", sa.String(length=2000), nullable=False),
        sa.Column("title_ja", sa.String(length=2000), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("position", POSITION, autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("sheet_id", "version"),
    )
    op.create_index("registry_check_sheets_kind", "registry_check_sheets", ["kind", "position"], unique=False)


def downgrade() -> None:
    op.drop_index("registry_check_sheets_kind", table_name="registry_check_sheets")
    op.drop_table("registry_check_sheets")
