"""Risk HTTP routes (port 8002): rulesets, assessments, classification, the Advisory Board, incidents."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Body, Request, Response, status

from services.risk.application import RiskApplication
from services.risk.contract import is_severe
from services.risk.domain import (
    Assessment,
    BoardReview,
    BoardSubmission,
    Incident,
    ProjectRisk,
    RiskStatus,
)
from services.risk.schemas import (
    AdviceIn,
    AnswersIn,
    AssessmentOpen,
    AssessmentOut,
    BoardQueue,
    ClassificationIn,
    DecisionIn,
    IncidentCloseIn,
    IncidentIn,
    IncidentOut,
    IncidentReportIn,
    ProjectRiskOut,
    RescoreOut,
    RulesetList,
    RulesetOut,
    SubmissionDraft,
    SubmissionDraftIn,
    SubmissionEdit,
    SubmissionHistory,
    SubmissionOut,
)
from shared.auth import CurrentPrincipal, Principal
from shared.i18n import N_
from shared.mergepatch import MEDIA_TYPE as MERGE_PATCH
from shared.mergepatch import merge_patch
from shared.meta import Actor, EventMeta
from shared.pagination import Paging
from shared.policy import Subject, authorize, operation_of, rule_for
from shared.preconditions import RequiredIfMatch, tag
from shared.problems import Forbidden
from shared.timeutil import as_utc

router = APIRouter(prefix="/v1")
SUBMISSION_EDIT_SCHEMA = "#/components/schemas/SubmissionEdit"
T = TypeVar("T")


def risk_app(request: Request) -> RiskApplication:
    return request.app.state.risk


def designated_caio(request: Request, principal: Principal, subject: Subject) -> Actor:
    """A CAIO acts only for their own ministry, and only while the registry records them as its designated CAIO
    (``authorize`` asks ``app.state.designated_officer``, after the gate waited for the registry's head)."""
    if not rule_for(operation_of(request)).designation:
        raise LookupError("designated_caio() serves only actions whose policy line asks for the designation")
    return authorize(request, principal, ministry=subject.ministry, subject=subject)


@dataclass(frozen=True)
class RiskView:
    """What the project's risk representation shows besides the aggregate: the Board review, as its submissions
    record it, the incidents, and whether the open assessment was submitted."""

    review: BoardReview
    incidents: list[dict[str, Any]]
    open_assessment_submitted: bool


def risk_view(app: RiskApplication, risk: ProjectRisk) -> RiskView:
    return RiskView(app.board_review(risk), app.incidents_of(risk.project_id), app.open_assessment_submitted(risk))


def project_risk_out(risk: ProjectRisk, registry_position: int, view: RiskView) -> ProjectRiskOut:
    now = datetime.now(UTC)
    expired = risk.is_expired(now)
    due_at = risk.reevaluation_due_at()
    return ProjectRiskOut(
        project_id=str(risk.project_id),
        ministry=risk.ministry,
        status=risk.status,
        evaluation_due=risk.status in (RiskStatus.due, RiskStatus.stale) or expired,
        classification=risk.classification,
        classified_assessment_id=risk.classified_assessment_id,
        current_assessment_id=risk.current_assessment_id,
        assessment_ids=risk.assessment_ids,
        reevaluation_due_at=as_utc(due_at).isoformat() if due_at else None,
        expired=expired,
        board_status=view.review.status,
        submission_id=view.review.submission_id,
        decision=view.review.decision,
        incident_ids=[incident["id"] for incident in view.incidents],
        severe_incidents=[incident["id"] for incident in view.incidents if is_severe(incident["severity"])],
        pending=risk.pending(now, view.open_assessment_submitted, view.review),
        stale_causes=risk.stale_causes,
        version=risk.version,
        registry_position=registry_position,
    )


def assessment_out(assessment: Assessment) -> AssessmentOut:
    return AssessmentOut(
        id=str(assessment.id),
        project_id=str(assessment.project_id),
        ministry=assessment.ministry,
        ruleset_id=assessment.ruleset_id,
        ruleset_version=assessment.ruleset_version,
        ruleset_hash=assessment.ruleset_hash,
        state=assessment.state,
        answers=assessment.answers,
        mitigations=assessment.mitigations,
        screening=assessment.screening,
        classification=assessment.classification,
        version=assessment.version,
    )


def submission_out(submission: BoardSubmission) -> SubmissionOut:
    return SubmissionOut(
        id=str(submission.id),
        project_id=str(submission.project_id),
        ministry=submission.ministry,
        status=submission.status,
        previous_submission_id=submission.previous_submission_id,
        content=submission.content,
        advice=submission.advice,
        decision=submission.decision,
        version=submission.version,
    )


def incident_out(incident: Incident) -> IncidentOut:
    return IncidentOut(
        id=str(incident.id),
        project_id=str(incident.project_id),
        ministry=incident.ministry,
        details=incident.details,
        severe=incident.severe,
        reported_onward=incident.reported_onward,
        closure=incident.closure,
        version=incident.version,
    )


def respond(response: Response, aggregate: Any, render: Callable[[Any], T]) -> T:
    """The resource's representation, with the ETag a client sends back in If-Match to change it."""
    tag(response, aggregate.version)
    return render(aggregate)


# -- project risk state -------------------------------------------------------------------------------


@router.get(
    "/projects/{project_id}/risk",
    response_model=ProjectRiskOut,
    tags=["risk"],
    operation_id="get_project_risk",
    summary="The project's risk state, and what is pending on whom",
)
def get_project_risk(
    project_id: UUID, request: Request, response: Response, principal: CurrentPrincipal
) -> ProjectRiskOut:
    position = request.app.state.registry_follower.position()
    app = risk_app(request)
    risk = app.project_risk(project_id)
    return respond(response, risk, lambda risk: project_risk_out(risk, position, risk_view(app, risk)))


# -- rulesets ---------------------------------------------------------------------------------------------


@router.get(
    "/rulesets",
    response_model=RulesetList,
    tags=["rulesets"],
    operation_id="list_rulesets",
    summary="Published ruleset versions",
)
def list_rulesets(request: Request, principal: CurrentPrincipal, paging: Paging) -> RulesetList:
    rows = [
        {**row, "published_at": as_utc(row["published_at"]).isoformat()} for row in risk_app(request).list_rulesets()
    ]
    return RulesetList.model_validate(paging.page(rows, lambda row: (row["ruleset_id"], row["version"])))


@router.get(
    "/rulesets/{ruleset_id}/versions/{version}",
    response_model=RulesetOut,
    response_model_exclude_unset=True,  # the content exactly as hashed: no defaults it did not state
    tags=["rulesets"],
    operation_id="get_ruleset",
    summary="One ruleset version, in full",
)
def get_ruleset(ruleset_id: str, version: int, request: Request, principal: CurrentPrincipal) -> RulesetOut:
    published = risk_app(request).ruleset(ruleset_id, version)
    return RulesetOut(
        ruleset_id=published.ruleset_id,
        version=published.version,
        content_hash=published.content_hash,
        content=published.content,
    )


@router.post(
    "/rulesets",
    status_code=status.HTTP_201_CREATED,
    response_model=RulesetOut,
    response_model_exclude_unset=True,  # the content exactly as hashed: no defaults it did not state
    tags=["rulesets"],
    operation_id="publish_ruleset",
    summary="Publish a new ruleset version (admin)",
)
def publish_ruleset(
    request: Request,
    principal: CurrentPrincipal,
    content: Annotated[dict[str, Any], Body(description="The ruleset document (see services/risk/rulesets/).")],
) -> RulesetOut:
    actor = authorize(request, principal)
    published = risk_app(request).publish_ruleset(content, EventMeta.of(actor, "ruleset published"))
    return RulesetOut(
        ruleset_id=published.ruleset_id,
        version=published.version,
        content_hash=published.content_hash,
        content=published.content,
    )


@router.post(
    "/rulesets/{ruleset_id}/versions/{version}/rescore",
    response_model=RescoreOut,
    tags=["rulesets"],
    operation_id="rescore_ruleset",
    summary="Dry run: which current assessments would change under this version",
)
def rescore(ruleset_id: str, version: int, request: Request, principal: CurrentPrincipal) -> RescoreOut:
    authorize(request, principal)
    return RescoreOut.model_validate(
        {"ruleset_id": ruleset_id, "version": version, "changes": risk_app(request).rescore(ruleset_id, version)}
    )


# -- assessments --------------------------------------------------------------------------------------------


@router.post(
    "/projects/{project_id}/assessments",
    status_code=status.HTTP_201_CREATED,
    response_model=AssessmentOut,
    tags=["assessments"],
    operation_id="open_assessment",
    summary="Open a draft risk evaluation (planner)",
)
def open_assessment(
    project_id: UUID,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    body: AssessmentOpen | None = None,
) -> AssessmentOut:
    app = risk_app(request)
    actor = authorize(request, principal, ministry=app.project_risk(project_id).ministry)
    ruleset_id = (body or AssessmentOpen()).ruleset_id
    return respond(response, app.open_assessment(project_id, ruleset_id, EventMeta.of(actor)), assessment_out)


@router.get(
    "/assessments/{assessment_id}",
    response_model=AssessmentOut,
    tags=["assessments"],
    operation_id="get_assessment",
    summary="One assessment",
)
def get_assessment(
    assessment_id: UUID, request: Request, response: Response, principal: CurrentPrincipal
) -> AssessmentOut:
    return respond(response, risk_app(request).assessment(assessment_id), assessment_out)


@router.put(
    "/assessments/{assessment_id}/answers",
    response_model=AssessmentOut,
    tags=["assessments"],
    operation_id="record_answers",
    summary="Record answers, each with a justification (planner)",
)
def record_answers(
    assessment_id: UUID,
    body: AnswersIn,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    if_match: RequiredIfMatch,
) -> AssessmentOut:
    app = risk_app(request)
    actor = authorize(request, principal, ministry=app.assessment(assessment_id).ministry)
    answers = {key: value.model_dump() for key, value in body.answers.items()}
    mitigations = {key: value.model_dump() for key, value in body.mitigations.items()}
    return respond(
        response,
        app.record_answers(assessment_id, answers, mitigations, EventMeta.of(actor), if_match=if_match),
        assessment_out,
    )


@router.post(
    "/assessments/{assessment_id}/submit",
    response_model=AssessmentOut,
    tags=["assessments"],
    operation_id="submit_assessment",
    summary="Compute and record the screening (planner)",
)
def submit_assessment(
    assessment_id: UUID, request: Request, response: Response, principal: CurrentPrincipal, if_match: RequiredIfMatch
) -> AssessmentOut:
    app = risk_app(request)
    actor = authorize(request, principal, ministry=app.assessment(assessment_id).ministry)
    return respond(
        response,
        app.submit_assessment(assessment_id, EventMeta.of(actor), if_match=if_match),
        assessment_out,
    )


@router.post(
    "/assessments/{assessment_id}/classification",
    response_model=AssessmentOut,
    tags=["assessments"],
    operation_id="classify_assessment",
    summary="The CAIO's classification: high or not_high",
)
def classify(
    assessment_id: UUID,
    body: ClassificationIn,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    if_match: RequiredIfMatch,
) -> AssessmentOut:
    app = risk_app(request)
    assessment = app.assessment(assessment_id)
    subject = Subject(ministry=assessment.ministry, answered_by=frozenset(assessment.answered_by))
    actor = designated_caio(request, principal, subject)
    meta = EventMeta.of(actor, body.reasons)
    return respond(
        response,
        app.classify(
            assessment_id, body.classification, body.reasons, body.override_justification, meta, if_match=if_match
        ),
        assessment_out,
    )


# -- Advisory Board ---------------------------------------------------------------------------------------------


@router.post(
    "/projects/{project_id}/board-submissions",
    status_code=status.HTTP_201_CREATED,
    response_model=SubmissionOut,
    tags=["board"],
    operation_id="draft_board_submission",
    summary="Draft an Advisory Board submission (planner)",
)
def draft_submission(
    project_id: UUID, body: SubmissionDraftIn, request: Request, response: Response, principal: CurrentPrincipal
) -> SubmissionOut:
    app = risk_app(request)
    actor = authorize(request, principal, ministry=app.project_risk(project_id).ministry)
    content = body.model_dump(mode="json", exclude={"previous_submission_id"})
    reason = "revision of a submission the CAIO decided to revise and resubmit" if body.previous_submission_id else None
    submission = app.draft_submission(project_id, content, EventMeta.of(actor, reason), body.previous_submission_id)
    return respond(response, submission, submission_out)


@router.patch(
    "/board-submissions/{submission_id}",
    response_model=SubmissionOut,
    tags=["board"],
    operation_id="edit_board_submission",
    summary="Edit a draft with a JSON merge patch (planner); only drafts, with If-Match",
    openapi_extra={"requestBody": {"content": {MERGE_PATCH: {"schema": {"$ref": SUBMISSION_EDIT_SCHEMA}}}}},
)
def edit_submission(
    submission_id: UUID,
    body: SubmissionEdit,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    if_match: RequiredIfMatch,
) -> SubmissionOut:
    app = risk_app(request)
    submission = app.submission(submission_id)
    actor = authorize(request, principal, ministry=submission.ministry)
    merged = merge_patch(submission.content, body.model_dump(mode="json", exclude_unset=True))
    content = SubmissionDraft.model_validate(merged).model_dump(mode="json")
    edited = app.edit_submission(submission_id, content, EventMeta.of(actor, "draft edited"), if_match=if_match)
    return respond(response, edited, submission_out)


@router.get(
    "/board-submissions/{submission_id}/history",
    response_model=SubmissionHistory,
    tags=["board"],
    operation_id="get_board_submission_history",
    summary="A submission's events in log order (drafted, edits, submitted, advice, decision)",
)
def get_submission_history(
    submission_id: UUID, request: Request, principal: CurrentPrincipal, paging: Paging
) -> SubmissionHistory:
    entries = [entry.as_dict() for entry in risk_app(request).submission_history(submission_id)]
    return SubmissionHistory.model_validate(paging.page(entries, lambda entry: (entry["position"],)))


@router.get(
    "/board-submissions/{submission_id}",
    response_model=SubmissionOut,
    tags=["board"],
    operation_id="get_board_submission",
    summary="One submission",
)
def get_submission(
    submission_id: UUID, request: Request, response: Response, principal: CurrentPrincipal
) -> SubmissionOut:
    return respond(response, risk_app(request).submission(submission_id), submission_out)


@router.post(
    "/projects/{project_id}/board-submissions/{submission_id}/submit",
    response_model=SubmissionOut,
    tags=["board"],
    operation_id="submit_board_submission",
    summary="Check completeness and submit to the Board (CAIO)",
)
def submit_submission(
    project_id: UUID,
    submission_id: UUID,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    if_match: RequiredIfMatch,
) -> SubmissionOut:
    app = risk_app(request)
    submission = app.submission(submission_id)
    if submission.project_id != project_id:
        raise Forbidden(N_("The submission belongs to another project."))
    actor = designated_caio(request, principal, Subject(ministry=submission.ministry))
    meta = EventMeta.of(actor, "submitted to the Advanced AI Utilization Advisory Board")
    return respond(response, app.submit_to_board(submission_id, meta, if_match=if_match), submission_out)


@router.post(
    "/board-submissions/{submission_id}/advice",
    response_model=SubmissionOut,
    tags=["board"],
    operation_id="record_board_advice",
    summary="The Board's advice (board member or secretariat)",
)
def record_advice(
    submission_id: UUID,
    body: AdviceIn,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    if_match: RequiredIfMatch,
) -> SubmissionOut:
    app = risk_app(request)
    actor = authorize(request, principal, subject=Subject(ministry=app.submission(submission_id).ministry))
    return respond(
        response,
        app.record_advice(
            submission_id,
            body.opinion,
            body.text,
            body.conditions,
            EventMeta.of(actor, body.text),
            if_match=if_match,
        ),
        submission_out,
    )


@router.post(
    "/board-submissions/{submission_id}/decision",
    response_model=SubmissionOut,
    tags=["board"],
    operation_id="record_caio_decision",
    summary="The ministry's decision after the advice (CAIO)",
)
def record_decision(
    submission_id: UUID,
    body: DecisionIn,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    if_match: RequiredIfMatch,
) -> SubmissionOut:
    app = risk_app(request)
    submission = app.submission(submission_id)
    advised_by = submission.advice["by"] if submission.advice else None
    actor = designated_caio(request, principal, Subject(ministry=submission.ministry, advised_by=advised_by))
    responses = [response.model_dump() for response in body.condition_responses]
    meta = EventMeta.of(actor, body.reasons)
    return respond(
        response,
        app.record_decision(submission_id, body.decision, body.reasons, responses, meta, if_match=if_match),
        submission_out,
    )


@router.get(
    "/board/queue",
    response_model=BoardQueue,
    tags=["board"],
    operation_id="get_board_queue",
    summary="Submissions awaiting advice, oldest first",
)
def board_queue(request: Request, principal: CurrentPrincipal, paging: Paging) -> BoardQueue:
    authorize(request, principal)
    app = risk_app(request)
    page = paging.page(app.board_queue(), lambda row: (row["submitted_at"], str(row["submission_id"])))
    return BoardQueue.model_validate(
        {**page, "items": [submission_out(app.submission(row["submission_id"])) for row in page["items"]]}
    )


# -- incidents ----------------------------------------------------------------------------------------------------


@router.post(
    "/projects/{project_id}/incidents",
    status_code=status.HTTP_201_CREATED,
    response_model=IncidentOut,
    tags=["incidents"],
    operation_id="record_incident",
    summary="Record an incident (planner or CAIO)",
)
def record_incident(
    project_id: UUID, body: IncidentIn, request: Request, response: Response, principal: CurrentPrincipal
) -> IncidentOut:
    app = risk_app(request)
    actor = authorize(request, principal, ministry=app.project_risk(project_id).ministry)
    return respond(
        response,
        app.record_incident(project_id, body.model_dump(mode="json"), EventMeta.of(actor, body.what_happened)),
        incident_out,
    )


@router.get(
    "/incidents/{incident_id}",
    response_model=IncidentOut,
    tags=["incidents"],
    operation_id="get_incident",
    summary="One incident",
)
def get_incident(incident_id: UUID, request: Request, response: Response, principal: CurrentPrincipal) -> IncidentOut:
    return respond(response, risk_app(request).incident(incident_id), incident_out)


@router.post(
    "/incidents/{incident_id}/report",
    response_model=IncidentOut,
    tags=["incidents"],
    operation_id="report_incident",
    summary="Record the report to the Digital Agency (CAIO)",
)
def report_incident(
    incident_id: UUID,
    body: IncidentReportIn,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    if_match: RequiredIfMatch,
) -> IncidentOut:
    app = risk_app(request)
    actor = designated_caio(request, principal, Subject(ministry=app.incident(incident_id).ministry))
    return respond(
        response,
        app.report_incident(incident_id, body.reference, EventMeta.of(actor, body.reason), if_match=if_match),
        incident_out,
    )


@router.post(
    "/incidents/{incident_id}/close",
    response_model=IncidentOut,
    tags=["incidents"],
    operation_id="close_incident",
    summary="Close with the corrective measures (planner or CAIO)",
)
def close_incident(
    incident_id: UUID,
    body: IncidentCloseIn,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    if_match: RequiredIfMatch,
) -> IncidentOut:
    app = risk_app(request)
    actor = authorize(request, principal, ministry=app.incident(incident_id).ministry)
    meta = EventMeta.of(actor, body.corrective_measures)
    return respond(
        response,
        app.close_incident(incident_id, body.corrective_measures, meta, if_match=if_match),
        incident_out,
    )
