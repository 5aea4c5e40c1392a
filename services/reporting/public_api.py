"""The public register (``/public/v1``): no token, only what the designated CAIO published.

JSON (and CSV with ``Accept: text/csv`` or ``….csv``) default to English, HTML pages to Japanese; ``Accept-Language``
(``ja``, ``en``) chooses. Every answer carries a strong ``ETag`` (a digest of its bytes, so ``If-None-Match`` gives
``304``), ``Cache-Control`` and ``Vary: Accept, Accept-Language``. An unknown or unpublished project is ``404``.
"""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse

from services.registry.contract import Stage
from services.reporting import public
from services.reporting.api import CsvResponse, queries, store
from services.reporting.schemas import PublicProject, PublicRegister, PublishedVersion
from shared.i18n import ENGLISH, JAPANESE, Msg, negotiate
from shared.pagination import Paging
from shared.problems import NotFound

router = APIRouter(prefix="/public/v1", tags=["public register"])
CACHE_CONTROL = "public, max-age=60"


def language(request: Request, default: str) -> str:
    return negotiate(request.headers.get("accept-language"), default)


def cached(request: Request, content: str, media_type: str, lang: str, headers: dict[str, str] | None = None) -> Any:
    """The answer with its ETag and caching headers, or ``304`` when the client holds these very bytes."""
    body = content.encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    common = {
        "ETag": etag,
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept, Accept-Language",
        "Content-Language": lang,
        **(headers or {}),
    }
    held = [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]
    if etag in held or "*" in held:
        return Response(status_code=304, headers=common)
    return Response(body, media_type=media_type, headers=common)


def published_doc(request: Request, project_id: UUID) -> dict[str, Any]:
    reader = queries(request)
    with reader.session() as session:
        doc = reader.project(session, reader.moment(session), str(project_id))
    if not public.publications(doc):
        raise NotFound(Msg("No published record of project {project_id}.", project_id=str(project_id)))
    assert doc is not None
    return doc


def proof_of(request: Request, log: dict[str, Any]) -> dict[str, Any] | None:
    """The publication's inclusion proof in the registry's transparency log, as the log stands now."""
    return store(request).inclusion_proof(log["service"], log["position"])


def register_page(request: Request, paging: Any, ministry: str | None, stage: Stage | None) -> dict[str, Any]:
    reader = queries(request)
    with reader.session() as session:
        docs = reader.published(session, ministry, stage.value if stage else None, paging.after, paging.limit + 1)
    page = paging.fetched(docs, lambda doc: (doc["registry"]["registered_at"], doc["project_id"]))
    return {**page, "items": [public.register_item(doc) for doc in page["items"]]}


@router.get(
    "/projects",
    response_model=PublicRegister,
    operation_id="list_public_projects",
    summary="The public register: every published project (no token); `Accept: text/csv` gives the CSV",
)
def list_public_projects(
    request: Request, paging: Paging, ministry: str | None = None, stage: Stage | None = None
) -> Any:
    if "text/csv" in request.headers.get("accept", ""):
        return get_public_projects_csv(request, paging, ministry, stage)
    lang = language(request, ENGLISH)
    page = register_page(request, paging, ministry, stage)
    content = PublicRegister.model_validate({**page, "language": lang}).model_dump_json()
    return cached(request, content, "application/json", lang, dict(paging.response.headers))


@router.get(
    "/projects.csv",
    response_class=CsvResponse,
    operation_id="get_public_projects_csv",
    summary="The public register as CSV (headers in the language asked for), paged by Link: next",
)
def get_public_projects_csv(
    request: Request, paging: Paging, ministry: str | None = None, stage: Stage | None = None
) -> Any:
    lang = language(request, ENGLISH)
    page = register_page(request, paging, ministry, stage)
    return cached(request, public.as_csv(page["items"], lang), "text/csv", lang, dict(paging.response.headers))


@router.get(
    "/projects.html",
    response_class=HTMLResponse,
    operation_id="get_public_projects_html",
    summary="The public register's index page (Japanese unless Accept-Language prefers English)",
)
def get_public_projects_html(
    request: Request, paging: Paging, ministry: str | None = None, stage: Stage | None = None
) -> Any:
    lang = language(request, JAPANESE)
    page = register_page(request, paging, ministry, stage)
    content = public.index_html(page["items"], page["next"], lang)
    return cached(request, content, "text/html", lang, dict(paging.response.headers))


@router.get(
    "/projects/{project_id}.html",
    response_class=HTMLResponse,
    operation_id="get_public_project_html",
    summary="A published project's page (Japanese unless Accept-Language prefers English)",
)
def get_public_project_html(project_id: UUID, request: Request) -> Any:
    lang = language(request, JAPANESE)
    doc = published_doc(request, project_id)
    shown = public.project(doc, lang)
    return cached(request, public.project_html(doc, shown, lang), "text/html", lang)


@router.get(
    "/projects/{project_id}",
    response_model=PublicProject,
    operation_id="get_public_project",
    summary="A project's latest published record and the list of its versions",
)
def get_public_project(project_id: UUID, request: Request) -> Any:
    lang = language(request, ENGLISH)
    shown = public.project(published_doc(request, project_id), lang)
    content = PublicProject.model_validate({**shown, "proof": proof_of(request, shown["log"])})
    return cached(request, content.model_dump_json(), "application/json", lang)


@router.get(
    "/projects/{project_id}/versions/{publication}",
    response_model=PublishedVersion,
    operation_id="get_public_project_version",
    summary="One published version of a project's record",
)
def get_public_project_version(
    project_id: UUID, request: Request, publication: int = Path(ge=1, le=1_000_000)
) -> Any:
    lang = language(request, ENGLISH)
    doc = published_doc(request, project_id)
    found = [item for item in public.publications(doc) if item["publication"] == publication]
    if not found:
        raise NotFound(Msg("Project {project_id} has no publication {n}.", project_id=str(project_id), n=publication))
    shown = public.version(doc, found[0], lang)
    content = PublishedVersion.model_validate({**shown, "proof": proof_of(request, shown["log"])})
    return cached(request, content.model_dump_json(), "application/json", lang)
