"""Registry HTTP routes (port 8001): thin adapters from requests to commands and back."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Path, Query, Request, Response, status

from services.registry.application import RegistryApplication
from services.registry.contract import PERIOD_PATTERN, SheetKind, Withholding
from services.registry.domain import (
    CheckSheetVersion,
    Ministry,
    Project,
    Stage,
    UsageRulesVersion,
)
from services.registry.schemas import (
    CaioDesignation,
    CaioHistory,
    CheckSheetList,
    CheckSheetOut,
    MinistryCreate,
    MinistryList,
    MinistryOut,
    ModelChangeNotice,
    PeriodicReportSubmission,
    PeriodicSubmissionOut,
    ProcurementRecord,
    ProjectAmendment,
    ProjectCheckSheets,
    ProjectEvents,
    ProjectList,
    ProjectOut,
    ProjectRegistration,
    ProjectSummary,
    PublicationRequest,
    RiskAcceptance,
    TransitionRequest,
    UsageRulesIssue,
    UsageRulesList,
    UsageRulesOut,
)
from shared.auth import CurrentPrincipal
from shared.meta import EventMeta
from shared.pagination import PageRequest, Paging, invalid_cursor
from shared.policy import Subject, authorize
from shared.preconditions import RequiredIfMatch, tag
from shared.schemas import Reason
from shared.timeutil import as_utc

router = APIRouter(prefix="/v1")


def registry(request: Request) -> RegistryApplication:
    return request.app.state.registry


def ministry_fields(ministry: Ministry) -> dict[str, Any]:
    return {"code": ministry.code, "name": ministry.name, "caio": ministry.caio, "version": ministry.version}


def ministry_out(ministry: Ministry, response: Response) -> MinistryOut:
    tag(response, ministry.version)
    return MinistryOut.model_validate(ministry_fields(ministry))


def project_out(project: Project, response: Response) -> ProjectOut:
    tag(response, project.version)
    return ProjectOut.model_validate(
        {
            "id": str(project.id),
            "version": project.version,
            "ministry": project.ministry,
            "stage": project.stage,
            "allowed_transitions": project.allowed_transitions,
            "details": project.details,
            "procurement": project.procurement,
            "registered_at": project.created_on.isoformat(),
            "updated_at": project.modified_on.isoformat(),
            "publications": getattr(project, "publications", 0),
        }
    )


# -- ministries and CAIO designations ----------------------------------------------------------------


@router.post(
    "/ministries",
    status_code=status.HTTP_201_CREATED,
    response_model=MinistryOut,
    tags=["ministries"],
    operation_id="create_ministry",
    summary="Register a ministry or agency (admin)",
)
def create_ministry(
    body: MinistryCreate, request: Request, response: Response, principal: CurrentPrincipal
) -> MinistryOut:
    actor = authorize(request, principal)
    ministry = registry(request).establish_ministry(body.code, body.name, EventMeta.of(actor))
    response.headers["Location"] = f"/v1/ministries/{ministry.code}"
    return ministry_out(ministry, response)


@router.get(
    "/ministries",
    response_model=MinistryList,
    tags=["ministries"],
    operation_id="list_ministries",
    summary="List ministries, by code",
)
def list_ministries(request: Request, principal: CurrentPrincipal, paging: Paging) -> MinistryList:
    ministries = [ministry_fields(ministry) for ministry in registry(request).list_ministries()]
    return MinistryList.model_validate(paging.page(ministries, lambda ministry: (ministry["code"],)))


@router.get(
    "/ministries/{code}",
    response_model=MinistryOut,
    tags=["ministries"],
    operation_id="get_ministry",
    summary="One ministry",
)
def get_ministry(code: str, request: Request, response: Response, principal: CurrentPrincipal) -> MinistryOut:
    return ministry_out(registry(request).get_ministry(code), response)


@router.put(
    "/ministries/{code}/caio",
    response_model=MinistryOut,
    tags=["ministries"],
    operation_id="designate_caio",
    summary="Designate the ministry's Chief AI Officer (admin)",
)
def designate_caio(
    code: str,
    body: CaioDesignation,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    if_match: RequiredIfMatch,
) -> MinistryOut:
    actor = authorize(request, principal, subject=Subject(ministry=code, designee=body.officer_id))
    ministry = registry(request).designate_caio(
        code, body.officer_id, body.name, EventMeta.of(actor, body.reason), if_match=if_match
    )
    return ministry_out(ministry, response)


@router.delete(
    "/ministries/{code}/caio",
    response_model=MinistryOut,
    tags=["ministries"],
    operation_id="revoke_caio",
    summary="Revoke the current CAIO designation (admin)",
)
def revoke_caio(
    code: str,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    reason: Annotated[Reason, Query(description="Why the designation ends; recorded in the event.")],
    if_match: RequiredIfMatch,
) -> MinistryOut:
    actor = authorize(request, principal)
    ministry = registry(request).revoke_caio(code, EventMeta.of(actor, reason), if_match=if_match)
    return ministry_out(ministry, response)


@router.get(
    "/ministries/{code}/caio",
    response_model=MinistryOut,
    tags=["ministries"],
    operation_id="get_caio",
    summary="The ministry's current CAIO",
)
def get_caio(code: str, request: Request, response: Response, principal: CurrentPrincipal) -> MinistryOut:
    return ministry_out(registry(request).get_ministry(code), response)


@router.get(
    "/ministries/{code}/caio/history",
    response_model=CaioHistory,
    tags=["ministries"],
    operation_id="get_caio_history",
    summary="Every CAIO designation of the ministry, oldest first",
)
def get_caio_history(code: str, request: Request, principal: CurrentPrincipal, paging: Paging) -> CaioHistory:
    return CaioHistory.model_validate(
        paging.page(registry(request).caio_history(code), lambda entry: (entry["designated_at"], entry["officer_id"]))
    )


# -- projects -----------------------------------------------------------------------------------------


@router.post(
    "/projects",
    status_code=status.HTTP_201_CREATED,
    response_model=ProjectOut,
    tags=["projects"],
    operation_id="register_project",
    summary="Register a generative-AI project",
)
def register_project(
    body: ProjectRegistration, request: Request, response: Response, principal: CurrentPrincipal
) -> ProjectOut:
    actor = authorize(request, principal, ministry=body.ministry)
    details = body.model_dump(mode="json", exclude={"ministry"})
    project = registry(request).register_project(body.ministry, details, EventMeta.of(actor))
    response.headers["Location"] = f"/v1/projects/{project.id}"
    return project_out(project, response)


def project_cursor(paging: PageRequest) -> tuple[datetime, UUID] | None:
    """The (registered_at, id) a projects cursor names; the index is read in that order."""
    if paging.after is None:
        return None
    try:
        at, last_id = paging.after
        return datetime.fromisoformat(str(at)), UUID(str(last_id))
    except ValueError as error:
        raise invalid_cursor() from error


@router.get(
    "/projects",
    response_model=ProjectList,
    tags=["projects"],
    operation_id="list_projects",
    summary="List projects, filtered by ministry and stage",
)
def list_projects(
    request: Request,
    principal: CurrentPrincipal,
    paging: Paging,
    ministry: str | None = None,
    stage: Stage | None = None,
) -> ProjectList:
    rows = registry(request).list_projects(
        ministry, stage.value if stage else None, paging.limit + 1, project_cursor(paging)
    )
    page = paging.fetched(rows, lambda row: (row["registered_at"].isoformat(), str(row["project_id"])))
    return ProjectList.model_validate({**page, "items": [project_summary(row) for row in page["items"]]})


def project_summary(row: dict[str, Any]) -> ProjectSummary:
    return ProjectSummary(
        id=str(row["project_id"]),
        ministry=row["ministry"],
        title=row["title"],
        stage=row["stage"],
        version=row["version"],
        updated_at=row["updated_at"].isoformat(),
    )


@router.get(
    "/projects/{project_id}",
    response_model=ProjectOut,
    tags=["projects"],
    operation_id="get_project",
    summary="One project (ETag carries its version)",
)
def get_project(project_id: UUID, request: Request, response: Response, principal: CurrentPrincipal) -> ProjectOut:
    return project_out(registry(request).get_project(project_id), response)


@router.patch(
    "/projects/{project_id}",
    response_model=ProjectOut,
    tags=["projects"],
    operation_id="amend_project",
    summary="Amend a project (If-Match required)",
)
def amend_project(
    project_id: UUID,
    body: ProjectAmendment,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    if_match: RequiredIfMatch,
) -> ProjectOut:
    app = registry(request)
    actor = authorize(request, principal, ministry=app.get_project(project_id).ministry)
    project = app.amend_project(project_id, body.changes(), EventMeta.of(actor, body.reason), if_match=if_match)
    return project_out(project, response)


@router.post(
    "/projects/{project_id}/transitions",
    response_model=ProjectOut,
    tags=["projects"],
    operation_id="transition_project",
    summary="Move a project along its lifecycle",
)
def transition_project(
    project_id: UUID,
    body: TransitionRequest,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    if_match: RequiredIfMatch,
) -> ProjectOut:
    app = registry(request)
    actor = authorize(request, principal, ministry=app.get_project(project_id).ministry)
    project = app.transition_project(project_id, body.to, EventMeta.of(actor, body.reason), if_match=if_match)
    return project_out(project, response)


@router.put(
    "/projects/{project_id}/procurement",
    response_model=ProjectOut,
    tags=["projects"],
    operation_id="record_procurement",
    summary="Record vendor, contract and check-sheet answers",
)
def record_procurement(
    project_id: UUID,
    body: ProcurementRecord,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    if_match: RequiredIfMatch,
) -> ProjectOut:
    app = registry(request)
    actor = authorize(request, principal, ministry=app.get_project(project_id).ministry)
    meta = EventMeta.of(actor, body.reason)
    if body.version_1:
        fields = {"vendor", "contract_reference", "procurement_checks", "contract_checks"}
        record = body.model_dump(mode="json", include=fields)
        return project_out(app.record_procurement(project_id, record, meta, if_match=if_match), response)
    project = app.record_sheet_answers(
        project_id, body.vendor, body.contract_reference, body.sheets(), meta, if_match=if_match
    )
    return project_out(project, response)


@router.post(
    "/projects/{project_id}/publications",
    response_model=ProjectOut,
    tags=["projects"],
    operation_id="publish_project",
    summary="Publish the public record as it stands, some fields withheld with a reason (designated CAIO)",
)
def publish_project(
    project_id: UUID,
    body: PublicationRequest,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    if_match: RequiredIfMatch,
) -> ProjectOut:
    app = registry(request)
    actor = authorize(request, principal, ministry=app.get_project(project_id).ministry)
    withheld = [Withholding.model_validate(item.model_dump(mode="json")) for item in body.withheld]
    project = app.publish_project(project_id, withheld, EventMeta.of(actor, body.reason), if_match=if_match)
    return project_out(project, response)


@router.get(
    "/projects/{project_id}/check-sheets",
    response_model=ProjectCheckSheets,
    tags=["check sheets"],
    operation_id="get_project_check_sheets",
    summary="The project's check sheet answers and status, for the project as it stands now",
)
def get_project_check_sheets(project_id: UUID, request: Request, principal: CurrentPrincipal) -> ProjectCheckSheets:
    project, statuses, _ = registry(request).sheet_status(project_id)
    sheets = []
    for kind, current in statuses.items():
        recorded = project.sheet_state.get(kind.value) or {"answers": {}, "accepted": {}}
        answers = [
            {
                "item": item,
                "answer": answer["answer"],
                "note": answer["note"],
                "evidence": answer["evidence"],
                "reason": answer["reason"],
                "risk_accepted": item in recorded["accepted"],
            }
            for item, answer in recorded["answers"].items()
        ]
        sheets.append({**current.model_dump(mode="json"), "answers": answers})
    return ProjectCheckSheets.model_validate(
        {"project_id": str(project.id), "version": project.version, "sheets": sheets}
    )


@router.post(
    "/projects/{project_id}/check-sheets/{kind}/items/{item}/risk-acceptance",
    response_model=ProjectOut,
    tags=["check sheets"],
    operation_id="accept_check_item_risk",
    summary="The designated CAIO accepts the risk of an item answered not_met",
)
def accept_check_item_risk(
    project_id: UUID,
    kind: SheetKind,
    item: str,
    body: RiskAcceptance,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    if_match: RequiredIfMatch,
) -> ProjectOut:
    app = registry(request)
    actor = authorize(request, principal, ministry=app.get_project(project_id).ministry)
    project = app.accept_item_risk(project_id, kind, item, EventMeta.of(actor, body.reason), if_match=if_match)
    return project_out(project, response)


@router.post(
    "/projects/{project_id}/model-changes",
    response_model=ProjectOut,
    tags=["projects"],
    operation_id="record_model_change",
    summary="Record a vendor's notice of a model change (the classification goes stale)",
)
def record_model_change(
    project_id: UUID,
    body: ModelChangeNotice,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    if_match: RequiredIfMatch,
) -> ProjectOut:
    app = registry(request)
    actor = authorize(request, principal, ministry=app.get_project(project_id).ministry)
    reason = body.reason or f"vendor notice: {body.model} {body.version} from {body.effective_date.isoformat()}"
    project = app.notice_model_change(project_id, body.notice(), EventMeta.of(actor, reason), if_match=if_match)
    return project_out(project, response)


# -- check sheets ----------------------------------------------------------------------------------------


def check_sheet_out(published: CheckSheetVersion) -> CheckSheetOut:
    return CheckSheetOut.model_validate(
        {
            "sheet_id": published.sheet_id,
            "version": published.sheet_version,
            "kind": published.kind,
            "content_hash": published.content_hash,
            "content": published.content,
        }
    )


@router.get(
    "/check-sheets",
    response_model=CheckSheetList,
    tags=["check sheets"],
    operation_id="list_check_sheets",
    summary="Published check sheet versions",
)
def list_check_sheets(request: Request, principal: CurrentPrincipal, paging: Paging) -> CheckSheetList:
    rows = [
        {
            "sheet_id": row["sheet_id"],
            "version": row["version"],
            "kind": row["kind"],
            "title": {"en": row["title_en"], "ja": row["title_ja"]},
            "content_hash": row["content_hash"],
            "published_at": as_utc(row["published_at"]).isoformat(),
        }
        for row in registry(request).list_check_sheets()
    ]
    return CheckSheetList.model_validate(paging.page(rows, lambda row: (row["sheet_id"], row["version"])))


@router.get(
    "/check-sheets/{sheet_id}/versions/{version}",
    response_model=CheckSheetOut,
    tags=["check sheets"],
    operation_id="get_check_sheet",
    summary="One check sheet version, in full",
)
def get_check_sheet(sheet_id: str, version: int, request: Request, principal: CurrentPrincipal) -> CheckSheetOut:
    return check_sheet_out(registry(request).check_sheet(sheet_id, version))


@router.post(
    "/check-sheets",
    status_code=status.HTTP_201_CREATED,
    response_model=CheckSheetOut,
    tags=["check sheets"],
    operation_id="publish_check_sheet",
    summary="Publish a new check sheet version (admin)",
)
def publish_check_sheet(
    request: Request,
    principal: CurrentPrincipal,
    content: Annotated[
        dict[str, Any], Body(description="The check sheet document (see services/registry/checksheets/).")
    ],
) -> CheckSheetOut:
    actor = authorize(request, principal)
    return check_sheet_out(registry(request).publish_check_sheet(content, EventMeta.of(actor, "check sheet published")))


@router.get(
    "/projects/{project_id}/events",
    response_model=ProjectEvents,
    tags=["projects"],
    operation_id="get_project_events",
    summary="The project's own history in the registry log, by position",
)
def get_project_events(
    project_id: UUID, request: Request, principal: CurrentPrincipal, paging: Paging
) -> ProjectEvents:
    entries = [entry.as_dict() for entry in registry(request).project_history(project_id)]
    return ProjectEvents.model_validate(paging.page(entries, lambda entry: (entry["position"],)))


# -- usage rules and periodic-report submissions (the designated CAIO) -------------------------------------------


def usage_rules_out(code: str, issued: UsageRulesVersion) -> UsageRulesOut:
    return UsageRulesOut.model_validate(
        {**dataclasses.asdict(issued), "ministry": code, "issued_at": issued.issued_at.isoformat()}
    )


@router.post(
    "/ministries/{code}/usage-rules",
    status_code=status.HTTP_201_CREATED,
    response_model=UsageRulesOut,
    tags=["ministries"],
    operation_id="issue_usage_rules",
    summary="Issue a new version of the ministry's usage rules for generative AI (the designated CAIO)",
)
def issue_usage_rules(
    code: str, body: UsageRulesIssue, request: Request, response: Response, principal: CurrentPrincipal
) -> UsageRulesOut:
    actor = authorize(request, principal, ministry=code)
    issued = registry(request).issue_usage_rules(
        code,
        body.title,
        body.text,
        body.reference,
        body.reference_hash,
        body.effective_from,
        EventMeta.of(actor, body.reason),
    )
    response.headers["Location"] = f"/v1/ministries/{code}/usage-rules/{issued.version}"
    return usage_rules_out(code, issued)


@router.get(
    "/ministries/{code}/usage-rules",
    response_model=UsageRulesList,
    tags=["ministries"],
    operation_id="list_usage_rules",
    summary="Every version of the ministry's usage rules, oldest first",
)
def list_usage_rules(code: str, request: Request, principal: CurrentPrincipal, paging: Paging) -> UsageRulesList:
    versions = [usage_rules_out(code, issued).model_dump(mode="json") for issued in registry(request).usage_rules(code)]
    return UsageRulesList.model_validate(paging.page(versions, lambda version: (version["version"],)))


@router.get(
    "/ministries/{code}/usage-rules/{version}",
    response_model=UsageRulesOut,
    tags=["ministries"],
    operation_id="get_usage_rules",
    summary="One version of the ministry's usage rules",
)
def get_usage_rules(
    code: str, version: Annotated[int, Path(ge=1, le=1_000_000)], request: Request, principal: CurrentPrincipal
) -> UsageRulesOut:
    return usage_rules_out(code, registry(request).usage_rules_version(code, version))


@router.post(
    "/ministries/{code}/periodic-reports/{period}/submission",
    status_code=status.HTTP_201_CREATED,
    response_model=PeriodicSubmissionOut,
    tags=["ministries"],
    operation_id="submit_periodic_report",
    summary="Submit the ministry's periodic report as reporting computed it (the designated CAIO)",
)
def submit_periodic_report(
    code: str,
    period: Annotated[str, Path(pattern=PERIOD_PATTERN, description="Half-year, e.g. 2026H2.")],
    body: PeriodicReportSubmission,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
) -> PeriodicSubmissionOut:
    actor = authorize(request, principal, ministry=code)
    submitted = registry(request).submit_periodic_report(
        code, period, body.content_hash, body.positions.model_dump(), body.as_of, EventMeta.of(actor, body.reason)
    )
    response.headers["Location"] = f"/v1/ministries/{code}/periodic-reports/{period}/submission"
    return PeriodicSubmissionOut(
        ministry=code,
        period=submitted.period,
        content_hash=submitted.content_hash,
        positions={"registry": submitted.registry_position, "risk": submitted.risk_position},
        as_of=submitted.as_of.isoformat(),
        submitted_at=submitted.submitted_at.isoformat(),
        submitted_by=submitted.submitted_by,
        submitted_by_name=submitted.submitted_by_name,
        reason=submitted.reason,
    )
