"""risk process tables and registry risk gate

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa
import sqlalchemy_utils


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('registry_tracking',
    sa.Column('application_name', sa.String(length=32), nullable=False),
    sa.Column('notification_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.PrimaryKeyConstraint('application_name')
    )
    op.create_table('registry_risk_gate',
    sa.Column('project_id', sa.Uuid(), nullable=False),
    sa.Column('risk_id', sa.Uuid(), nullable=False),
    sa.Column('classification', sa.String(length=16), nullable=True),
    sa.Column('classification_current', sa.Boolean(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('board_advice_recorded', sa.Boolean(), nullable=False),
    sa.Column('decision', sa.String(length=32), nullable=True),
    sa.Column('classified_registry_position', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=True),
    sa.Column('last_material_position', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=True),
    sa.Column('risk_position', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=True),
    sa.PrimaryKeyConstraint('project_id'),
    sa.UniqueConstraint('risk_id')
    )
    op.create_table('risk_assessments',
    sa.Column('assessment_id', sa.Uuid(), nullable=False),
    sa.Column('project_id', sa.Uuid(), nullable=False),
    sa.Column('ministry', sa.String(length=16), nullable=False),
    sa.Column('ruleset_id', sa.String(length=64), nullable=False),
    sa.Column('ruleset_version', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('assessment_id')
    )
    with op.batch_alter_table('risk_assessments', schema=None) as batch_op:
        batch_op.create_index('risk_assessments_project', ['project_id'], unique=False)

    op.create_table('risk_ministry_caios',
    sa.Column('ministry_id', sa.Uuid(), nullable=False),
    sa.Column('ministry', sa.String(length=16), nullable=False),
    sa.Column('caio_officer_id', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('ministry_id'),
    sa.UniqueConstraint('ministry')
    )
    op.create_table('risk_rulesets',
    sa.Column('ruleset_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('ruleset_id', 'version')
    )
    op.create_table('risk_submissions',
    sa.Column('submission_id', sa.Uuid(), nullable=False),
    sa.Column('project_id', sa.Uuid(), nullable=False),
    sa.Column('ministry', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('submission_id')
    )
    with op.batch_alter_table('risk_submissions', schema=None) as batch_op:
        batch_op.create_index('risk_submissions_status', ['status', 'submitted_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('risk_submissions', schema=None) as batch_op:
        batch_op.drop_index('risk_submissions_status')

    op.drop_table('risk_submissions')
    op.drop_table('risk_rulesets')
    op.drop_table('risk_ministry_caios')
    with op.batch_alter_table('risk_assessments', schema=None) as batch_op:
        batch_op.drop_index('risk_assessments_project')

    op.drop_table('risk_assessments')
    op.drop_table('registry_risk_gate')
    op.drop_table('registry_tracking')
