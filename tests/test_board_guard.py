"""A Board step is recorded on its submission alone, so what it rests on (the project's classification, the other
submissions) is checked again under the log's write lock when it is saved. These tests put a concurrent command
exactly between a step's reading and its save, on SQLite and PostgreSQL: the step is refused (409) and records
nothing, and no forbidden state enters the log."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from services.risk.application import RiskApplication
from services.risk.domain import BoardOpinion, BoardSubmission, Classification, ProjectRisk
from shared.eventlog import ConcurrentChange
from shared.meta import EventMeta
from tests.support.scenarios import complete_submission

PLANNER = EventMeta("alice", "Alice", "planner", "MIC", None, None)
CAIO = EventMeta("carol", "Carol", "caio", "MIC", "decided", None)
BOARD = EventMeta("bob", "Bob", "board_member", None, "advice", None)
SYSTEM = EventMeta("aigov-risk", "aigov-risk", "system", "MIC", "registered", None)


class Interleaved(RiskApplication):
    """The risk application, with another command run right after a Board step read what it rests on."""

    name = "risk"
    meanwhile: Any = None

    def _board_of(self, project_id: UUID) -> Any:
        read = super()._board_of(project_id)
        if self.meanwhile is not None:
            self.meanwhile()
        return read


def classified(app: RiskApplication, project_id: UUID) -> ProjectRisk:
    risk = ProjectRisk(project_id=project_id, ministry="MIC", cause="registered", meta=SYSTEM)
    reclassify(app, risk)
    return risk


def reclassify(app: RiskApplication, risk: ProjectRisk) -> str:
    assessment = uuid.uuid4()
    risk.start_assessment(assessment, PLANNER)
    risk.record_classification(assessment, Classification.high, datetime.now(UTC) + timedelta(days=365), 0, CAIO)
    app.save(risk)
    return str(assessment)


def drafted(app: RiskApplication, risk: ProjectRisk) -> BoardSubmission:
    content = {**complete_submission(risk.classified_assessment_id or "")}
    submission = BoardSubmission(project_id=risk.project_id, ministry="MIC", content=content, meta=PLANNER)
    app.save(submission)
    return submission


@pytest.fixture
def apps(database_url: str) -> tuple[Interleaved, RiskApplication]:
    """The application under test, and another one (its own connections) for the concurrent command."""
    return Interleaved(database_url), RiskApplication(database_url)


def test_advice_is_refused_when_the_project_is_reclassified_between_its_reading_and_its_save(
    apps: tuple[Interleaved, RiskApplication],
) -> None:
    app, other = apps
    project = uuid.uuid4()
    classified(app, project)
    submission = drafted(app, app.project_risk(project))
    app.submit_to_board(submission.id, CAIO)

    app.meanwhile = lambda: reclassify(other, other.project_risk(project))
    head = app.head_position()
    with pytest.raises(ConcurrentChange):
        app.record_advice(submission.id, BoardOpinion.no_concerns, "sound", [], BOARD)
    assert app.head_position() == head + 2, "only the reclassification (two events) was recorded"
    assert app.submission(submission.id).advice is None
    app.meanwhile = None
    with pytest.raises(Exception, match="not current"):
        app.record_advice(submission.id, BoardOpinion.no_concerns, "sound", [], BOARD)


def test_of_two_submissions_racing_to_the_board_only_one_is_with_it(apps: tuple[Interleaved, RiskApplication]) -> None:
    app, other = apps
    project = uuid.uuid4()
    risk = classified(app, project)
    first, second = drafted(app, risk), drafted(app, risk)

    app.meanwhile = lambda: other.submit_to_board(second.id, CAIO)
    with pytest.raises(ConcurrentChange):
        app.submit_to_board(first.id, CAIO)
    assert (app.submission(first.id).status, app.submission(second.id).status) == ("draft", "awaiting_advice")
    review = app.board_review(app.project_risk(project))
    assert (review.status, review.submission_id) == ("awaiting_advice", str(second.id))


def test_a_step_with_nothing_changed_meanwhile_is_recorded(apps: tuple[Interleaved, RiskApplication]) -> None:
    app, other = apps
    project, elsewhere = uuid.uuid4(), uuid.uuid4()
    risk = classified(app, project)
    classified(other, elsewhere)
    submission = drafted(app, risk)
    app.meanwhile = lambda: drafted(other, other.project_risk(elsewhere))  # another project's change: no conflict
    app.submit_to_board(submission.id, CAIO)
    assert app.submission(submission.id).status == "awaiting_advice"
