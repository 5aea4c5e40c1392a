"""Risk: an index of incidents by project, now that each incident is recorded once (``IncidentRecorded``) and the
project's risk aggregate no longer notes every incident a second time (``IncidentNoted``, kept in old logs).

The index is filled from the incidents already in the log, decoding their stored state as any reader does.

Revision ID: 0010
Revises: 0008_periodic_submissions
Create Date: 2026-12-02 20:10:00
"""

import sqlalchemy as sa
from alembic import op

from shared.logreader import state_transcoder

revision = "0010"
down_revision = "0008_periodic_submissions"
branch_labels = None
depends_on = None

INCIDENT_RECORDED = "services.risk.domain:Incident.IncidentRecorded"


def upgrade() -> None:
    incidents = op.create_table(
        "risk_incidents",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("incident_id"),
    )
    op.create_index("risk_incidents_project", "risk_incidents", ["project_id", "recorded_at"], unique=False)
    events = sa.table(
        "risk_events", sa.column("originator_id", sa.Uuid()), sa.column("topic"), sa.column("state"), sa.column("id")
    )
    transcoder = state_transcoder()
    query = sa.select(events.c.originator_id, events.c.state).where(events.c.topic == INCIDENT_RECORDED)
    rows = op.get_bind().execute(query.order_by(events.c.id))
    recorded = []
    for originator_id, state in rows:
        event = transcoder.decode(bytes(state))
        recorded.append(
            {
                "incident_id": originator_id,
                "project_id": event["project_id"],
                "severity": event["details"]["severity"],
                "recorded_at": event["timestamp"],
            }
        )
    if recorded:
        op.bulk_insert(incidents, recorded)


def downgrade() -> None:
    op.drop_index("risk_incidents_project", table_name="risk_incidents")
    op.drop_table("risk_incidents")
