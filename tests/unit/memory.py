"""The fast rung's support: the library's in-memory (POPO) persistence for aigov's aggregates, and the two logs
(registry, risk) driven through the aggregates the way the services drive them, read back as the JSON envelopes
the reporting projection folds.

No database file, no server, no network: every log here lives in the process and vanishes with it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from services.registry.contract import REGISTRY
from services.registry.domain import Ministry, Project, Stage
from services.risk import evaluation
from services.risk.contract import RISK, add_months
from services.risk.domain import (
    Assessment,
    BoardOpinion,
    BoardReview,
    BoardSubmission,
    Classification,
    Decision,
    Incident,
    ProjectRisk,
)
from shared.hashchain import ChainedRecord
from shared.logreader import EnvelopeDecoder
from shared.meta import EventMeta, EventMetaAsDict

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def meta(
    actor: str = "alice", role: str = "planner", ministry: str | None = "MIC", reason: str = "unit test"
) -> EventMeta:
    return EventMeta(actor, actor.title(), role, ministry, reason, f"corr-{actor}")


PLANNER = meta("alice", "planner")
CAIO = meta("carol", "caio")
BOARD = meta("bob", "board_member", None)
ADMIN = meta("root", "admin", None)
SYSTEM = meta("aigov-risk", "system")

DETAILS: dict[str, Any] = {
    "title": "Drafting assistant",
    "users": "staff_only",
    "nature_of_work": "internal_support",
    "business_area": "admin",
    "data": {"confidentiality": "internal", "personal_data": False},
    "human_review": "every_output",
    "models": [],
    "owner": "Policy division",
    "expected_users": 10,
    "description": "Drafts internal memos.",
    "objectives": "Faster drafting.",
}

JP = evaluation.load_shipped("jp-genai-2.0", 1)


def answers_for(ruleset: evaluation.Ruleset, high: bool) -> dict[str, dict[str, str]]:
    """A complete set of answers: every question on its riskiest choice (``high``) or its mildest."""

    def rank(choice: evaluation.Choice) -> tuple[bool, int]:
        return (choice.high, choice.points)

    pick = max if high else min
    return {
        question.id: {"choice": pick(question.choices, key=rank).id, "justification": "as observed"}
        for question in ruleset.questions()
    }


def complete_submission(assessment_id: str = "a-1") -> dict[str, Any]:
    """A Board submission with every part the guideline asks for."""
    return {
        "objectives": "Faster drafting.",
        "expected_results": "Half the drafting time.",
        "assessment_id": assessment_id,
        "mitigation_measures": [{"risk": "leak", "measure": "no upload", "owner": "CISO", "status": "in_place"}],
        "quality_assurance": {
            "evaluation_method": "sampled review",
            "metrics": [{"name": "error rate", "threshold": "< 2 %"}],
            "monitoring": "weekly",
            "human_review": "every output",
            "incident_response": "stop and report",
        },
        "supporting_information": ["doc-1"],
    }


class InMemoryLog(Application[UUID]):
    """An ``eventsourcing`` application on the library's in-memory persistence, transcoding ``EventMeta`` as the
    services do; ``name`` is the service whose log it stands for."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(env=POPO)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(EventMetaAsDict())

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    def envelopes(self, after: int = 0) -> list[dict[str, Any]]:
        """The log after ``after`` as the JSON envelopes followers and the offline CLI hand to the projection."""
        notifications = self.recorder.select_notifications(start=after + 1, limit=10_000)
        decode = EnvelopeDecoder({"registry": REGISTRY, "risk": RISK}[self.name])
        return [
            decode(ChainedRecord(n.id, n.originator_id, n.originator_version, n.topic, n.state, None)).as_dict()
            for n in notifications
        ]

    def types(self, after: int = 0) -> list[str]:
        return [envelope["type"] for envelope in self.envelopes(after)]


def replayed(log: InMemoryLog, aggregate: Aggregate) -> Aggregate:
    """Save ``aggregate`` and load it again from its recorded events: what any later request sees."""
    log.save(aggregate)
    return log.repository.get(aggregate.id)


def state_of(aggregate: Aggregate) -> dict[str, Any]:
    return {key: value for key, value in vars(aggregate).items() if key != "_pending_events"}


def assert_replay_equals_live(log: InMemoryLog, aggregate: Aggregate) -> None:
    assert state_of(replayed(log, aggregate)) == state_of(aggregate)


def assert_stale_copy_refused(log: InMemoryLog, aggregate: Aggregate, command: Callable[[Any], Any]) -> None:
    """Two requests load the same version and both run ``command``: the first is recorded, the second is refused
    when saved (the optimistic-concurrency rule behind the API's 409) and records nothing."""
    log.save(aggregate)
    first, second = log.repository.get(aggregate.id), log.repository.get(aggregate.id)
    command(first)
    log.save(first)
    head = log.head()
    command(second)
    try:
        log.save(second)
    except IntegrityError:
        pass
    else:
        raise AssertionError("a change made on a stale copy was recorded")
    assert log.head() == head
    assert state_of(log.repository.get(aggregate.id)) == state_of(first)


def assert_created_once(log: InMemoryLog, make: Callable[[], Aggregate]) -> None:
    """A creation is recorded once: the same creation event saved a second time (a retried request holding the
    same new aggregate) is refused and records nothing."""
    created = make()
    retried = copy.deepcopy(created)
    log.save(created)
    head = log.head()
    try:
        log.save(retried)
    except IntegrityError:
        pass
    else:
        raise AssertionError("the same creation was recorded twice")
    assert log.head() == head


class Government:
    """The registry and risk logs, driven through the aggregates in the order the services drive them (the risk
    service's reactions to registry events included), so the projection can fold what they record."""

    def __init__(self) -> None:
        self.registry = InMemoryLog("registry")
        self.risk = InMemoryLog("risk")
        self.submissions: dict[UUID, BoardSubmission] = {}

    # -- registry -------------------------------------------------------------------------------------

    def establish(self, code: str = "MIC", name: str = "Ministry of Internal Affairs") -> Ministry:
        ministry = Ministry(code=code, name=name, meta=ADMIN)
        self.registry.save(ministry)
        return ministry

    def designate(self, code: str, officer_id: str, name: str) -> None:
        ministry = self.registry.repository.get(Ministry.create_id(code))
        ministry.designate_caio(officer_id, name, ADMIN)
        self.registry.save(ministry)

    def revoke(self, code: str) -> None:
        ministry = self.registry.repository.get(Ministry.create_id(code))
        ministry.revoke_caio(ADMIN)
        self.registry.save(ministry)

    def register(self, ministry: str = "MIC", **details: Any) -> UUID:
        project = Project(ministry=ministry, details={**DETAILS, **details}, meta=PLANNER)
        self.registry.save(project)
        cause = "project registered"
        self.risk.save(ProjectRisk(project_id=project.id, ministry=ministry, cause=cause, meta=SYSTEM))
        return project.id

    def project(self, project_id: UUID) -> Project:
        return self.registry.repository.get(project_id)

    def project_risk(self, project_id: UUID) -> ProjectRisk:
        return self.risk.repository.get(ProjectRisk.create_id(project_id))

    def amend(self, project_id: UUID, **changes: Any) -> None:
        """Amend the project; the risk service reacts to a material amendment as its follower does."""
        project = self.project(project_id)
        project.amend(changes, PLANNER)
        amended = self.registry.save(project)[-1].domain_event
        if amended.material:
            risk = self.project_risk(project_id)
            cause = f"material amendment of {', '.join(amended.material_fields)}"
            if risk.material_change(cause, SYSTEM):
                self.risk.save(risk)

    def transition(self, project_id: UUID, *stages: Stage) -> None:
        project = self.project(project_id)
        for stage in stages:
            project.transition(stage, PLANNER)
        self.registry.save(project)

    def procure(self, project_id: UUID, record: dict[str, Any]) -> None:
        project = self.project(project_id)
        project.record_procurement(record, PLANNER)
        self.registry.save(project)

    # -- risk -----------------------------------------------------------------------------------------

    def open_assessment(self, project_id: UUID) -> UUID:
        risk = self.project_risk(project_id)
        assessment = Assessment(
            project_id=project_id,
            ministry=risk.ministry,
            ruleset_id=JP.id,
            ruleset_version=JP.version,
            ruleset_hash=evaluation.content_hash(JP),
            meta=PLANNER,
        )
        risk.start_assessment(assessment.id, PLANNER)
        self.risk.save(assessment, risk)
        return assessment.id

    def answer(self, assessment_id: UUID, high: bool) -> None:
        assessment = self.risk.repository.get(assessment_id)
        assessment.record_answers(answers_for(JP, high), {}, PLANNER)
        self.risk.save(assessment)

    def submit_assessment(self, assessment_id: UUID) -> None:
        assessment = self.risk.repository.get(assessment_id)
        assessment.submit(evaluation.screen(JP, assessment.answers, {}), PLANNER)
        self.risk.save(assessment)

    def classify(self, assessment_id: UUID, classification: Classification, registry_position: int = 0) -> None:
        assessment = self.risk.repository.get(assessment_id)
        risk = self.project_risk(assessment.project_id)
        override = classification is Classification.not_high and assessment.screening["likely_high_risk"]
        assessment.classify(classification, "reasons", "the CAIO judged otherwise" if override else None, CAIO)
        expires_at = add_months(assessment.modified_on, JP.classification_validity_months)
        risk.record_classification(assessment.id, classification, expires_at, registry_position, CAIO)
        self.risk.save(assessment, risk)

    def evaluate(self, project_id: UUID, high: bool, classification: Classification | None = None) -> UUID:
        """Open an assessment, answer it, submit it and have the CAIO classify it (``classification`` defaults
        to the screening's suggestion)."""
        assessment_id = self.open_assessment(project_id)
        self.answer(assessment_id, high)
        self.submit_assessment(assessment_id)
        self.classify(assessment_id, classification or (Classification.high if high else Classification.not_high))
        return assessment_id

    def submissions_of(self, project_id: UUID) -> list[BoardSubmission]:
        return [aggregate for aggregate in self.submissions.values() if aggregate.project_id == project_id]

    def board_review(self, project_id: UUID) -> BoardReview:
        """Where the project's Board review stands, from its submissions (as ``RiskApplication.board_review``)."""
        return self.project_risk(project_id).board_review(self._reloaded(self.submissions_of(project_id)))

    def _reloaded(self, submissions: list[BoardSubmission]) -> list[BoardSubmission]:
        return [self.risk.repository.get(submission.id) for submission in submissions]

    def submit_to_board(self, project_id: UUID) -> UUID:
        risk = self.project_risk(project_id)
        content = {**complete_submission(), "assessment_id": risk.classified_assessment_id}
        submission = BoardSubmission(project_id=project_id, ministry=risk.ministry, content=content, meta=PLANNER)
        risk.require_submittable(submission, self.board_review(project_id))
        submission.submit(CAIO)
        self.risk.save(submission)
        self.submissions[submission.id] = submission
        return submission.id

    def advise(self, project_id: UUID, submission_id: UUID, opinion: BoardOpinion, conditions: list[str]) -> None:
        risk, submission = self.project_risk(project_id), self.risk.repository.get(submission_id)
        risk.require_current_submission(submission, self.board_review(project_id))
        submission.record_advice(opinion, "advice text", conditions, BOARD)
        self.risk.save(submission)

    def decide(self, project_id: UUID, submission_id: UUID, decision: Decision) -> None:
        risk, submission = self.project_risk(project_id), self.risk.repository.get(submission_id)
        risk.require_current_submission(submission, self.board_review(project_id))
        responses = [{"condition": c, "response": "accepted"} for c in submission.advice["conditions"]]
        submission.record_decision(decision, "decided", responses, CAIO)
        self.risk.save(submission)

    def incident(self, project_id: UUID, severity: str) -> UUID:
        risk = self.project_risk(project_id)
        details = {"occurred_at": "2026-11-01T09:00:00+00:00", "severity": severity, "harm": "none"}
        incident = Incident(
            project_id=project_id, ministry=risk.ministry, details={**details, "what_happened": "x"}, meta=CAIO
        )
        if risk.incident_recorded(incident.id, severity, CAIO):
            self.risk.save(incident, risk)
        else:
            self.risk.save(incident)
        return incident.id

    def report_incident(self, incident_id: UUID) -> None:
        incident = self.risk.repository.get(incident_id)
        incident.report_onward("DA-1", CAIO)
        self.risk.save(incident)

    def close_incident(self, incident_id: UUID) -> None:
        incident = self.risk.repository.get(incident_id)
        incident.close("retrained staff", CAIO)
        self.risk.save(incident)

    # -- reading ----------------------------------------------------------------------------------------

    def envelopes(self) -> dict[str, list[dict[str, Any]]]:
        return {"registry": self.registry.envelopes(), "risk": self.risk.envelopes()}
