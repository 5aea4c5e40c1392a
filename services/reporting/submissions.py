"""Reporting's side of the periodic report as a submission, and of the ministries' usage rules (issue 16, items 7
and 8): the report computed as of a moment with its content hash, the submitted report fetched again exactly as
submitted, the secretariat's view of who submitted, and the usage rules in force at a time.

The submission itself is a registry event (``PeriodicReportSubmitted``, by the ministry's designated CAIO): the
registry owns ministries and designations, and its aggregate checks the designation in the same save. What it
records is what reporting computed: the report's content hash, the log positions and the ``as_of`` time. The
report is a pure function of those (the history tables keep every version of every document), so fetching the
submission computes it again at exactly those positions and that time, and serves it only if its hash is the one
recorded in the log: byte for byte what was submitted, or a refusal, never something else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from services.reporting import ministry_records, periodic
from services.reporting.queries import Filters, Moment, ReportQueries
from shared.consistency import FollowerBehind
from shared.errors import NotFound, RuleViolated
from shared.i18n import Msg

PUBLIC_USAGE_RULES_FIELDS = ("version", "title", "text", "reference", "content_hash", "effective_from", "issued_at")


def report_at(reads: ReportQueries, session: Session, code: str, period: str, moment: Moment, at: datetime) -> Any:
    """The ministry's periodic report at the moment's positions, as of ``at``, with its content hash."""
    state = reads.projection(session, moment, reads.registered(session, moment, Filters(ministry=code)))
    rules = ministry_records.usage_rules_in_force(session, code, moment.positions["registry"], at)
    report = periodic.periodic_report(state, code, period, at.isoformat(), rules)
    if report["ministry_name"] is None:
        raise NotFound(Msg("No ministry with code {code}.", code=code))
    return periodic.with_content_hash(report)


def submitted_report(reads: ReportQueries, session: Session, code: str, period: str) -> tuple[bytes, dict[str, Any]]:
    """The latest submitted report of the ministry for the period, as the canonical bytes that were submitted."""
    tracked = reads.tracked(session)
    submission = ministry_records.submissions(session, period, tracked["registry"]).get(code)
    if submission is None:
        raise NotFound(Msg("Ministry {code} has submitted no periodic report for {period}.", code=code, period=period))
    positions = submission["positions"]
    if any(positions[service] > tracked[service] for service in positions):
        raise FollowerBehind(
            Msg("Reporting has not yet followed the logs to the submitted positions {positions}.", positions=positions)
        )
    at = datetime.fromisoformat(submission["as_of"])
    report = report_at(reads, session, code, period, Moment(dict(positions), live=False), at)
    if report["content_hash"] != submission["content_hash"]:
        raise RuleViolated(
            Msg(
                "The report of {code} for {period} at the submitted positions and time does not have the submitted "
                "content hash {content_hash}: what was submitted is not a report reporting computed.",
                code=code,
                period=period,
                content_hash=submission["content_hash"],
            ),
            submitted_hash=submission["content_hash"],
            computed_hash=report["content_hash"],
        )
    return periodic.canonical(report), submission


def submissions_view(reads: ReportQueries, session: Session, period: str, moment: Moment) -> list[dict[str, Any]]:
    """Every ministry (at the moment), by code: submitted (when, by whom), not submitted, or out of date since."""
    ministries = reads.projection(session, moment, []).ministries
    submitted = ministry_records.submissions(session, period, moment.positions["registry"])
    items = []
    for code in sorted(ministries):
        submission = submitted.get(code)
        change = (
            ministry_records.first_change_after(session, code, submission["positions"], moment)
            if submission is not None
            else None
        )
        items.append(
            {
                "ministry": code,
                "ministry_name": ministries[code].get("name"),
                "status": periodic.submission_status(submission, change).value,
                "submission": submission,
                "out_of_date": change,
            }
        )
    return items


def usage_rules_at(
    reads: ReportQueries, session: Session, code: str, moment: Moment, at: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None]:
    """The ministry's document at the moment, every version of its usage rules issued by then, and the one in force
    at ``at``."""
    ministry = reads.projection(session, moment, []).ministries.get(code)
    if ministry is None:
        raise NotFound(Msg("No ministry with code {code}.", code=code))
    versions = ministry_records.usage_rules(session, code, moment.positions["registry"])
    in_force = ministry_records.usage_rules_in_force(session, code, moment.positions["registry"], at)
    return ministry, [version.doc for version in versions], in_force


def public_usage_rules(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the public register shows of a version: no officer ids or names, no internal reasons."""
    return {key: doc[key] for key in PUBLIC_USAGE_RULES_FIELDS} if doc is not None else None
