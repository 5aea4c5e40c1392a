"""The risk service's query index, written from the events each save records, in the same transaction.

The persistence side of the risk service: rulesets, assessments and Board submissions as rows to list and
filter (the Board queue, the rescore dry run), and the CAIO designations followed from the registry. The
application holds no SQL; every row here derives from events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import Recording
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.risk import tables
from shared.timeutil import as_utc


def record(session: Session, recordings: Sequence[Recording[UUID]], saved: Mapping[UUID, Any]) -> None:
    """Bring the index rows up to date with the events just recorded (the application's ``indexer``)."""
    for recording in recordings:
        event = recording.domain_event
        writer = _WRITERS.get(type(event).__name__)
        if writer is not None:
            writer(session, event, saved[event.originator_id])


def _ruleset_published(session: Session, event: Any, ruleset: Any) -> None:
    session.execute(
        tables.rulesets.insert().values(
            ruleset_id=event.ruleset_id,
            version=event.version,
            content_hash=event.content_hash,
            title=event.content["title"],
            published_at=event.timestamp,
        )
    )


def _assessment_opened(session: Session, event: Any, assessment: Any) -> None:
    session.execute(
        tables.assessments.insert().values(
            assessment_id=event.originator_id,
            project_id=event.project_id,
            ministry=event.ministry,
            ruleset_id=event.ruleset_id,
            ruleset_version=event.ruleset_version,
            state="draft",
            opened_at=event.timestamp,
        )
    )


def _assessment_changed(session: Session, event: Any, assessment: Any) -> None:
    table = tables.assessments
    session.execute(update(table).where(table.c.assessment_id == event.originator_id).values(state=assessment.state))


def _submission_drafted(session: Session, event: Any, submission: Any) -> None:
    session.execute(
        tables.submissions.insert().values(
            submission_id=event.originator_id, project_id=event.project_id, ministry=event.ministry, status="draft"
        )
    )


def _submission_changed(session: Session, event: Any, submission: Any) -> None:
    values: dict[str, Any] = {"status": submission.status}
    if type(event).__name__ == "BoardSubmissionSubmitted":
        values["submitted_at"] = event.timestamp
    table = tables.submissions
    session.execute(update(table).where(table.c.submission_id == event.originator_id).values(values))


def _incident_recorded(session: Session, event: Any, incident: Any) -> None:
    session.execute(
        tables.incidents.insert().values(
            incident_id=event.originator_id,
            project_id=event.project_id,
            severity=event.details["severity"],
            recorded_at=event.timestamp,
        )
    )


_WRITERS = {
    "RulesetPublished": _ruleset_published,
    "AssessmentOpened": _assessment_opened,
    "AssessmentScreened": _assessment_changed,
    "AssessmentClassified": _assessment_changed,
    "BoardSubmissionDrafted": _submission_drafted,
    "BoardSubmissionSubmitted": _submission_changed,
    "BoardAdviceRecorded": _submission_changed,
    "CaioDecisionRecorded": _submission_changed,
    "IncidentRecorded": _incident_recorded,
}


# -- queries ----------------------------------------------------------------------------------------------------


def rulesets(session: Session) -> list[dict[str, Any]]:
    table = tables.rulesets
    return [
        dict(row) for row in session.execute(select(table).order_by(table.c.ruleset_id, table.c.version)).mappings()
    ]


def screened_assessments(session: Session, ruleset_id: str) -> list[UUID]:
    """Assessments under ``ruleset_id`` that were submitted (screened), oldest first."""
    table = tables.assessments
    query = (
        select(table.c.assessment_id)
        .where(table.c.ruleset_id == ruleset_id, table.c.state != "draft")
        .order_by(table.c.opened_at)
    )
    return list(session.execute(query).scalars())


def awaiting_advice(session: Session) -> list[dict[str, Any]]:
    """Submissions awaiting the Board's advice (id and submitted_at), oldest first."""
    table = tables.submissions
    query = (
        select(table.c.submission_id, table.c.submitted_at)
        .where(table.c.status == "awaiting_advice")
        .order_by(table.c.submitted_at, table.c.submission_id)
    )
    return [
        {"submission_id": row.submission_id, "submitted_at": as_utc(row.submitted_at).isoformat()}
        for row in session.execute(query)
    ]


def submission_states(session: Session, project_id: UUID) -> dict[UUID, str]:
    """Each Board submission of the project and its status (what a Board step rests on, besides the project's
    classification)."""
    table = tables.submissions
    query = select(table.c.submission_id, table.c.status).where(table.c.project_id == project_id)
    return {row.submission_id: row.status for row in session.execute(query.order_by(table.c.submission_id))}


def incidents_of(session: Session, project_id: UUID) -> list[dict[str, Any]]:
    """The project's incidents (id, severity), in the order they were recorded."""
    table = tables.incidents
    query = (
        select(table.c.incident_id, table.c.severity)
        .where(table.c.project_id == project_id)
        .order_by(table.c.recorded_at, table.c.incident_id)
    )
    return [{"id": str(row.incident_id), "severity": row.severity} for row in session.execute(query)]


def designated_caio(session: Session, ministry: str) -> str | None:
    """The officer the registry designates as the ministry's CAIO, as followed from the registry log."""
    table = tables.ministry_caios
    officer: str | None = session.execute(
        select(table.c.caio_officer_id).where(table.c.ministry == ministry)
    ).scalar_one_or_none()
    return officer
