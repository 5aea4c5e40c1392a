"""Ministries' usage rules and periodic-report submissions as reporting followed them (migration 0008).

The persistence side of issue 16's items 7 and 8: the rows ``history.fold`` writes from the registry's
``UsageRulesIssued`` and ``PeriodicReportSubmitted`` events, and the reads over them, live or as of a moment
(a moment's registry position bounds what had been issued or submitted by then). Which version is in force at a
time is the registry contract's rule (``in_force``); this module only finds the candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.registry.contract import in_force
from services.reporting import history, tables
from services.reporting.queries import Moment


@dataclass(frozen=True)
class IssuedVersion:
    """A version of a ministry's usage rules as reporting keeps it (the document is the event's content)."""

    version: int
    effective_from: date
    doc: dict[str, Any]


def usage_rules(session: Session, code: str, registry_position: int) -> list[IssuedVersion]:
    """Every version of the ministry's usage rules issued up to the registry position, oldest first."""
    rules = tables.usage_rules
    rows = session.execute(
        select(rules.c.doc)
        .where(rules.c.ministry == code, rules.c.position <= registry_position)
        .order_by(rules.c.version)
    )
    versions = []
    for (text,) in rows:
        doc = orjson.loads(text)
        versions.append(IssuedVersion(doc["version"], date.fromisoformat(doc["effective_from"]), doc))
    return versions


def usage_rules_in_force(session: Session, code: str, registry_position: int, at: datetime) -> dict[str, Any] | None:
    """The version in force at ``at`` among those issued by the registry position (None: none was in force)."""
    chosen = in_force(usage_rules(session, code, registry_position), at)
    return chosen.doc if chosen is not None else None


def submissions(session: Session, period: str, registry_position: int) -> dict[str, dict[str, Any]]:
    """Each ministry's latest submission for the period up to the registry position, by ministry code."""
    table = tables.periodic_submissions
    rows = session.execute(
        select(table.c.ministry, table.c.doc)
        .where(table.c.period == period, table.c.position <= registry_position)
        .order_by(table.c.position)
    )
    return {code: orjson.loads(doc) for code, doc in rows}  # later positions overwrite earlier ones


def first_change_after(session: Session, code: str, submitted: dict[str, int], moment: Moment) -> dict[str, Any] | None:
    """The earliest change to one of the ministry's projects after the positions a submission reflects (and up
    to the moment's): when it happened (its log's clock) and where. None: the submission is still up to date."""
    versions, projects, clock = tables.project_versions, tables.projects, tables.log_clock
    found: list[tuple[int, str, int]] = []
    for service in ("registry", "risk"):
        position = session.execute(
            select(func.min(versions.c.position))
            .select_from(versions.join(projects, projects.c.project_id == versions.c.project_id))
            .where(
                projects.c.ministry == code,
                versions.c.service == service,
                versions.c.position > submitted[service],
                versions.c.position <= moment.positions[service],
            )
        ).scalar_one_or_none()
        if position is None:
            continue
        micros = session.execute(
            select(clock.c.clock).where(clock.c.service == service, clock.c.position == position)
        ).scalar_one()
        found.append((micros, service, position))
    if not found:
        return None
    micros, service, position = min(found)
    since = (history.EPOCH + timedelta(microseconds=micros)).isoformat()
    return {"since": since, "service": service, "position": position}
