"""Reports read from the database: filtered, ordered and paged in SQL, live or as of any moment.

The report functions stay pure functions of a ``Projection`` (services/reporting/reports.py and
periodic.py); what changed is which documents go into it. A request builds a projection holding only the
documents its answer needs (one page of projects, one project, one ministry's projects), read either from
the live rows or, for ``?as_of=`` and positions, from the history (services/reporting/history.py): the
latest version of each document part at or before the positions of that moment. So the same functions make
the live and the historical answers, and neither loads every document.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from services.reporting import history, tables
from services.reporting.projection import Projection, new_project
from services.reporting.readmodel import UPSTREAMS, ReportingStore
from shared.database import read_only
from shared.pagination import Key, invalid_cursor

NOT_KNOWN_TO_RISK = "not_known_to_risk"


@dataclass(frozen=True)
class Moment:
    """The log positions an answer reflects; ``live``: the current rows (the positions tracked with them)."""

    positions: dict[str, int]
    live: bool


@dataclass(frozen=True)
class Filters:
    """What a list of registered projects is narrowed to (all optional)."""

    ministry: str | None = None
    stage: str | None = None
    risk: str | None = None
    high_risk: bool = False
    pending: bool = False


class ReportQueries:
    """Reads for the report routes; each method runs in one read transaction."""

    def __init__(self, store: ReportingStore):
        self.store = store

    @contextmanager
    def session(self) -> Iterator[Session]:
        with read_only(), self.store.tracking.transaction(commit=False) as session:
            yield session

    # -- the moment ----------------------------------------------------------------------------------------

    def moment(
        self,
        session: Session,
        as_of: datetime | None = None,
        registry_position: int | None = None,
        risk_position: int | None = None,
    ) -> Moment:
        """Live, or the positions of a moment: each log's prefix at ``as_of``, capped by the given positions."""
        tracked = self.tracked(session)
        if as_of is None and registry_position is None and risk_position is None:
            return Moment(tracked, live=True)
        positions = {}
        for service, given in (("registry", registry_position), ("risk", risk_position)):
            position = tracked[service] if given is None else min(tracked[service], given)
            if as_of is not None:
                position = min(position, history.prefix_at(session, service, as_of))
            if given is not None:
                position = history.position_at_or_before(session, service, position)
            positions[service] = position
        return Moment(positions, live=False)

    def tracked(self, session: Session) -> dict[str, int]:
        table = self.store.tracking.tracking_table
        rows = dict(session.execute(select(table.c.application_name, table.c.notification_id)).all())
        return {upstream: rows.get(upstream) or 0 for upstream in UPSTREAMS}

    def projection(self, session: Session, moment: Moment, docs: list[dict[str, Any]]) -> Projection:
        """A projection of just these documents, with the ministries as they stood at the moment."""
        state = Projection(positions=dict(moment.positions))
        state.projects = {doc["project_id"]: doc for doc in docs}
        if moment.live:
            for code, doc in session.execute(select(tables.ministries.c.ministry, tables.ministries.c.doc)):
                state.ministries[code] = doc
        else:
            state.ministries, state.ministry_codes = history.ministries_at(session, moment.positions["registry"])
        return state

    # -- documents -----------------------------------------------------------------------------------------

    def project(self, session: Session, moment: Moment, project_id: str) -> dict[str, Any] | None:
        if moment.live:
            projects = tables.projects
            return session.execute(
                select(projects.c.doc).where(projects.c.project_id == UUID(project_id))
            ).scalar_one_or_none()
        registry = history.part_at(session, project_id, "registry", moment.positions["registry"])
        risk = history.part_at(session, project_id, "risk", moment.positions["risk"])
        if registry is None and risk is None:
            return None
        return assemble(project_id, registry, risk)

    def registered(
        self,
        session: Session,
        moment: Moment,
        filters: Filters,
        after: Key | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Registered projects' documents in registration order (id breaking ties), after a cursor, at most limit."""
        if not moment.live and limit is not None:
            return self._page_as_of(session, moment, filters, cursor_key(after) if after else None, limit)
        query, registered_at, project_id = self._query(moment, filters)
        if after is not None:
            at, last = cursor_key(after)
            query = query.where(or_(registered_at > at, and_(registered_at == at, project_id > last)))
        query = query.order_by(registered_at, project_id)
        if limit is not None:
            query = query.limit(limit)
        if moment.live:
            return [doc for (doc,) in session.execute(query)]
        return [assemble(str(row[0]), orjson.loads(row[1]), _loads(row[2])) for row in session.execute(query)]

    def _page_as_of(
        self, session: Session, moment: Moment, filters: Filters, after: tuple[int, UUID] | None, limit: int
    ) -> list[dict[str, Any]]:
        """A page as of a moment: walk the registration index a page of candidates at a time and read each
        candidate's parts at the moment's positions (two indexed queries per page of candidates), keeping those
        registered by then that pass the filters. A first page costs the same whatever the log's length."""
        projects = tables.projects
        found: list[dict[str, Any]] = []
        while len(found) < limit:
            query = select(projects.c.project_id, projects.c.registered_at).where(projects.c.registered_at.is_not(None))
            if filters.ministry:
                query = query.where(projects.c.ministry == filters.ministry)
            if after is not None:
                at, last = after
                query = query.where(
                    or_(
                        projects.c.registered_at > at,
                        and_(projects.c.registered_at == at, projects.c.project_id > last),
                    )
                )
            candidates = session.execute(
                query.order_by(projects.c.registered_at, projects.c.project_id).limit(limit)
            ).all()
            if not candidates:
                break
            ids = [project_id for project_id, _at in candidates]
            registry = history.parts_at(session, ids, "registry", moment.positions["registry"])
            risk = history.parts_at(session, ids, "risk", moment.positions["risk"])
            for project_id in ids:
                key = str(project_id)
                if key in registry:
                    doc = assemble(key, registry[key], risk.get(key))
                    if _passes(doc, filters):
                        found.append(doc)
            after = (candidates[-1][1], candidates[-1][0])
        return found[:limit]

    def published(
        self, session: Session, ministry: str | None, stage: str | None, after: Key | None, limit: int
    ) -> list[dict[str, Any]]:
        """The public register: live documents of published projects in registration order, after a cursor."""
        projects = tables.projects
        query = select(projects.c.doc).where(projects.c.published.is_not(None), projects.c.registered_at.is_not(None))
        if ministry:
            query = query.where(projects.c.ministry == ministry)
        if stage:
            query = query.where(projects.c.published_stage == stage)
        if after is not None:
            at, last = cursor_key(after)
            query = query.where(
                or_(projects.c.registered_at > at, and_(projects.c.registered_at == at, projects.c.project_id > last))
            )
        query = query.order_by(projects.c.registered_at, projects.c.project_id).limit(limit)
        return [doc for (doc,) in session.execute(query)]

    def count(self, session: Session, moment: Moment, filters: Filters) -> int:
        """How many registered projects the filters select: from the kept counts where they answer it."""
        if moment.live and not filters.pending:
            return history.live_count(session, filters.ministry, filters.stage, filters.risk, filters.high_risk)
        if not (filters.stage or filters.risk or filters.high_risk or filters.pending):
            scope = filters.ministry or history.EVERY_MINISTRY
            return history.registered_at_position(session, scope, moment.positions["registry"])
        query, _registered_at, _project_id = self._query(moment, filters)
        return session.execute(select(func.count()).select_from(query.subquery())).scalar_one()

    def _query(self, moment: Moment, filters: Filters) -> tuple[Any, Any, Any]:
        projects = tables.projects
        conditions = [projects.c.registered_at.is_not(None)]
        if filters.ministry:
            conditions.append(projects.c.ministry == filters.ministry)
        if moment.live:
            return _live(conditions, filters), projects.c.registered_at, projects.c.project_id
        return _as_of(conditions, filters, moment.positions), projects.c.registered_at, projects.c.project_id


def _live(conditions: list[Any], filters: Filters) -> Any:
    projects = tables.projects
    if filters.stage:
        conditions.append(projects.c.stage == filters.stage)
    if filters.risk:
        conditions.append(projects.c.risk_status == filters.risk)
    if filters.high_risk:
        conditions.append(projects.c.classification == "high")
    if filters.pending:
        conditions.append(projects.c.pending > 0)
    return select(projects.c.doc).where(*conditions)


def _latest(service: str, position: int) -> Any:
    """The position of the project's latest ``service`` part version at or before ``position`` (correlated)."""
    inner = tables.project_versions.alias(f"latest_{service}")
    return (
        select(func.max(inner.c.position))
        .where(
            inner.c.project_id == tables.projects.c.project_id,
            inner.c.service == service,
            inner.c.position <= position,
        )
        .scalar_subquery()
    )


def _as_of(conditions: list[Any], filters: Filters, positions: dict[str, int]) -> Any:
    """Each project's registry part and risk part as they stood at the positions; registered by then."""
    projects, versions = tables.projects, tables.project_versions
    registry, risk = versions.alias("registry_part"), versions.alias("risk_part")
    joined = projects.join(
        registry,
        and_(
            registry.c.project_id == projects.c.project_id,
            registry.c.service == "registry",
            registry.c.position == _latest("registry", positions["registry"]),
        ),
    ).outerjoin(
        risk,
        and_(
            risk.c.project_id == projects.c.project_id,
            risk.c.service == "risk",
            risk.c.position == _latest("risk", positions["risk"]),
        ),
    )
    if filters.stage:
        conditions.append(registry.c.stage == filters.stage)
    if filters.risk:
        conditions.append(func.coalesce(risk.c.risk_status, NOT_KNOWN_TO_RISK) == filters.risk)
    if filters.high_risk:
        conditions.append(risk.c.classification == "high")
    return select(projects.c.project_id, registry.c.doc, risk.c.doc).select_from(joined).where(*conditions)


def _passes(doc: dict[str, Any], filters: Filters) -> bool:
    registry, risk = doc["registry"], doc["risk"]
    return (
        (not filters.stage or registry["stage"] == filters.stage)
        and (not filters.risk or risk["status"] == filters.risk)
        and (not filters.high_risk or risk["classification"] == "high")
    )


def _loads(text: str | None) -> dict[str, Any] | None:
    return orjson.loads(text) if text is not None else None


def assemble(project_id: str, registry: dict[str, Any] | None, risk: dict[str, Any] | None) -> dict[str, Any]:
    """A project document from its two parts (a part no event has written yet keeps its initial value)."""
    doc = new_project(project_id)
    if registry is not None:
        doc.update(registry)
    if risk is not None:
        doc.update(risk)
    return doc


def cursor_key(after: Key) -> tuple[int, UUID]:
    """The SQL keyset of a registration-order cursor ``(registered_at, project_id)``; 422 for anything else."""
    if len(after) != 2 or not all(isinstance(part, str) for part in after):
        raise invalid_cursor()
    try:
        return history.micros(str(after[0])), UUID(str(after[1]))
    except (ValueError, TypeError, OverflowError) as error:  # not a time with its offset, or not an id
        raise invalid_cursor() from error
