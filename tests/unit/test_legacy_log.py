"""A log written before each fact was named once: the project's risk aggregate recorded every Board step a
second time (``SubmittedToAdvisoryBoard``, ``AdvisoryBoardAdviceReceived``, ``MinistryDecisionRecorded``) and the
submission's own steps were version 1 (no ``project_id``). The stored events stay as they are; these tests show
that the aggregates replay them, readers lift them, and every reader counts each step once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from services.registry.followers import RiskPolicy
from services.reporting.projection import Projection
from services.risk.contract import project_risk_id
from services.risk.domain import BoardOpinion, BoardSubmission, Classification, Decision, ProjectRisk
from shared.logreader import Envelope
from tests.unit.memory import BOARD, CAIO, PLANNER, InMemoryLog, complete_submission, meta

PROJECT = UUID("00000000-0000-4000-8000-0000000000c1")
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def as_version_1(log: InMemoryLog, event: Any) -> StoredEvent:
    """The event as the code of that time stored it: without ``project_id`` and without a class version."""
    stored = log.mapper.to_stored_event(event)
    state = log.mapper.transcoder.decode(stored.state)
    state.pop("class_version", None)
    if type(event).__name__ == "BoardSubmissionDrafted":
        state.pop("previous_submission_id", None)
    else:
        state.pop("project_id", None)
    encoded = log.mapper.transcoder.encode(state)
    return StoredEvent(stored.originator_id, stored.originator_version, stored.topic, encoded)


def old_log() -> tuple[InMemoryLog, UUID]:
    """One high-risk project's Board review, decided 'proceed', saved the way the old code saved it: each step
    on the submission (version 1), then the same step on the project's risk aggregate (legacy name)."""
    log = InMemoryLog("risk")
    risk = ProjectRisk(project_id=PROJECT, ministry="MIC", cause="registered", meta=meta("aigov-risk"))
    assessment = uuid.uuid4()
    risk.start_assessment(assessment, PLANNER)
    risk.record_classification(assessment, Classification.high, NOW + timedelta(days=365), 3, CAIO)
    log.save(risk)
    content = {**complete_submission(), "assessment_id": str(assessment)}
    submission = BoardSubmission(project_id=PROJECT, ministry="MIC", content=content, meta=PLANNER)
    submission.submit(CAIO)
    risk._legacy_submitted_to_board(submission_id=str(submission.id), meta=CAIO)
    save_the_old_way(log, submission, risk)
    submission.record_advice(BoardOpinion.no_concerns, "sound", [], BOARD)
    risk._legacy_advice_received(submission_id=str(submission.id), opinion="no_concerns", meta=BOARD)
    save_the_old_way(log, submission, risk)
    submission.record_decision(Decision.proceed, "go", [], CAIO)
    risk._legacy_decision_recorded(submission_id=str(submission.id), decision="proceed", meta=CAIO)
    save_the_old_way(log, submission, risk)
    return log, submission.id


def save_the_old_way(log: InMemoryLog, submission: BoardSubmission, risk: ProjectRisk) -> None:
    events = [as_version_1(log, event) for event in submission.collect_events()]
    events += [log.mapper.to_stored_event(event) for event in risk.collect_events()]
    log.recorder.insert_events(events)


def test_the_aggregates_replay_an_old_log_and_derive_the_same_review() -> None:
    log, submission_id = old_log()
    risk = log.repository.get(ProjectRisk.create_id(PROJECT))
    submission = log.repository.get(submission_id)
    assert (submission.status, submission.decision["decision"]) == ("decided", "proceed")
    review = risk.board_review([submission])
    assert (review.status, review.submission_id, review.decision) == ("decided", str(submission_id), "proceed")


def test_readers_lift_the_version_1_steps_and_see_the_legacy_names() -> None:
    log, _ = old_log()
    envelopes = log.envelopes()
    steps = [e for e in envelopes if e["type"] in ("BoardSubmissionSubmitted", "BoardAdviceRecorded")]
    assert [(e["schema_version"], e["data"]["project_id"]) for e in steps] == [(2, None), (2, None)]
    assert [e["type"] for e in envelopes].count("AdvisoryBoardAdviceReceived") == 1


def test_the_registry_gate_counts_each_step_once() -> None:
    """Version-1 steps name no project: the gate takes the legacy project-level event of the same save."""
    log, _ = old_log()
    gate: dict[str, Any] = {}
    updates = []
    for envelope in log.envelopes():
        entry = Envelope.from_dict(envelope)
        values, risk_id = RiskPolicy.gate_change(entry), RiskPolicy.risk_id_of(entry)
        if values is not None and risk_id is not None:
            assert risk_id == project_risk_id(PROJECT)
            gate.update(values)
            updates.append(entry.type)
    legacy = ["SubmittedToAdvisoryBoard", "AdvisoryBoardAdviceReceived", "MinistryDecisionRecorded"]
    assert updates == ["ProjectClassified", *legacy]
    assert (gate["board_advice_recorded"], gate["decision"]) == (True, "proceed")


def test_the_reporting_projection_reads_each_step_once_from_the_submission() -> None:
    log, submission_id = old_log()
    projection = Projection()
    for envelope in log.envelopes():
        projection.apply(envelope)
    board = projection.projects[str(PROJECT)]["board"]
    assert (board["status"], board["submission_id"]) == ("decided", str(submission_id))
    assert (board["advice"]["opinion"], board["decision"]["decision"]) == ("no_concerns", "proceed")
