"""The periodic report to the Digital Agency: a ministry's generative-AI systems at the end of a half-year."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

from services.reporting.projection import Projection
from services.reporting.reports import caio_of, inventory
from services.risk.contract import is_severe
from shared.i18n import ENGLISH, JAPANESE, N_, Msg, translate

PERIOD = re.compile(r"^(?P<year>20\d\d)H(?P<half>[12])$")
STAGES = ("planning", "procurement", "development", "operation", "suspended", "retired")
RISK_GROUPS = ("classified_high", "classified_not_high", "other")


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """``2026H2`` → [2026-07-01, 2027-01-01) in UTC."""
    match = PERIOD.match(period)
    if match is None:
        raise ValueError("period must look like 2026H1 or 2026H2")
    year, half = int(match["year"]), int(match["half"])
    start = datetime(year, 1 if half == 1 else 7, 1, tzinfo=UTC)
    end = datetime(year, 7, 1, tzinfo=UTC) if half == 1 else datetime(year + 1, 1, 1, tzinfo=UTC)
    return start, end


def risk_group(system: dict[str, Any]) -> str:
    """The chart's group of a system: its classification, whether or not it is stale (a stale high-risk system
    is still high risk until re-evaluated), else ``other`` (not yet classified)."""
    return {"high": "classified_high", "not_high": "classified_not_high"}.get(system["classification"] or "", "other")


def periodic_report(
    state: Projection,
    ministry: str,
    period: str,
    as_of: str | None = None,
    usage_rules: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The report as of ``as_of`` (the moment it states; the positions say which events it reflects), with the
    ministry's usage rules in force then."""
    start, end = period_bounds(period)
    systems = []
    for item in inventory(state, ministry=ministry):
        doc = state.projects[item["project_id"]]
        incidents = [
            incident
            for incident in doc["incidents"].values()
            if start.isoformat() <= incident["recorded_at"] < end.isoformat()
        ]
        systems.append(
            {
                **item,
                "classification_stale": item["risk_status"] == "stale",
                "incidents_in_period": len(incidents),
                "severe_incidents_in_period": sum(is_severe(i["severity"]) for i in incidents),
            }
        )
    matrix = {stage: {group: 0 for group in RISK_GROUPS} for stage in STAGES}
    for system in systems:
        matrix[system["stage"]][risk_group(system)] += 1
    return {
        "ministry": ministry,
        "ministry_name": (state.ministries.get(ministry) or {}).get("name"),
        "period": period,
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "caio": caio_of(state, ministry),
        "systems": systems,
        "by_stage_and_risk": matrix,
        "incidents_in_period": sum(system["incidents_in_period"] for system in systems),
        "severe_incidents_in_period": sum(system["severe_incidents_in_period"] for system in systems),
        "stale_classifications": sum(system["classification_stale"] for system in systems),
        "usage_rules": usage_rules,
        "as_of": as_of,
        "positions": dict(state.positions),
    }


class SubmissionStatus(StrEnum):
    """Where a ministry's periodic report for a period stands, as the Digital Agency's secretariat sees it."""

    submitted = "submitted"
    not_submitted = "not_submitted"
    out_of_date = "out_of_date"


def submission_status(submission: dict[str, Any] | None, change_since: dict[str, Any] | None) -> SubmissionStatus:
    """Submitted, not submitted, or submitted but out of date: one of the ministry's projects changed after the
    positions the submitted report reflects."""
    if submission is None:
        return SubmissionStatus.not_submitted
    return SubmissionStatus.out_of_date if change_since is not None else SubmissionStatus.submitted


def canonical(value: Any) -> bytes:
    """JSON with sorted keys and no whitespace: the bytes a report is hashed, frozen and served as."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def with_content_hash(report: dict[str, Any]) -> dict[str, Any]:
    """The report with ``content_hash``: sha256 of its canonical bytes (without the hash itself). Submitting the
    report names it by this hash; the submission, fetched later, is these very bytes."""
    body = {key: value for key, value in report.items() if key != "content_hash"}
    return {**body, "content_hash": "sha256:" + hashlib.sha256(canonical(body)).hexdigest()}


CSV_COLUMNS = (
    "project_id",
    "title",
    "stage",
    "risk_status",
    "classification",
    "classification_stale",
    "board_status",
    "incidents_in_period",
    "severe_incidents_in_period",
    "registered_at",
)


#: The CSV header in Japanese (in English the header is the column names themselves, as before).
CSV_LABELS = {
    "project_id": N_("Project id"),
    "title": N_("Title"),
    "stage": N_("Stage"),
    "risk_status": N_("Risk"),
    "classification": N_("Classification"),
    "classification_stale": N_("Classification stale"),
    "board_status": N_("Advisory Board"),
    "incidents_in_period": N_("Incidents in period"),
    "severe_incidents_in_period": N_("Severe incidents in period"),
    "registered_at": N_("Registered at"),
}


def as_csv(rows: list[dict[str, Any]], columns: tuple[str, ...], language: str = ENGLISH) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    if language == ENGLISH:
        writer.writeheader()
    else:
        csv.writer(buffer, lineterminator="\n").writerow([translate(CSV_LABELS.get(c, c), language) for c in columns])
    for row in rows:
        writer.writerow({column: row.get(column) for column in columns})
    return buffer.getvalue()


COLOURS = {"classified_high": "#c0392b", "classified_not_high": "#27ae60", "other": "#95a5a6"}
#: Stages and risk groups for people (the page's language).
WORDS = {
    "planning": N_("planning"),
    "procurement": N_("procurement"),
    "development": N_("development"),
    "operation": N_("operation"),
    "suspended": N_("suspended"),
    "retired": N_("retired"),
    "classified_high": N_("classified high"),
    "classified_not_high": N_("classified not high"),
    "other": N_("other"),
    "due": N_("due"),
    "in_progress": N_("in progress"),
    "stale": N_("stale"),
    "not_known_to_risk": N_("not known to risk"),
    "not_required": N_("not required"),
    "submission_required": N_("submission required"),
    "awaiting_advice": N_("awaiting advice"),
    "awaiting_decision": N_("awaiting decision"),
    "resubmission_required": N_("resubmission required"),
    "decided": N_("decided"),
}


def word(value: str, language: str) -> str:
    """A stage, risk status or Board status in ``language`` (values without a word are shown as they are)."""
    return translate(WORDS[value], language) if value in WORDS else value.replace("_", " ")


def chart_svg(matrix: dict[str, dict[str, int]], language: str = JAPANESE) -> str:
    """A stacked bar chart of projects by stage and risk, as inline SVG (prints, needs no script)."""
    width, bar, gap, height = 640, 70, 30, 220
    tallest = max([sum(groups.values()) for groups in matrix.values()] + [1])
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{translate(BY_STAGE, language)}" '
            f'width="{width}" height="{height + 60}" viewBox="0 0 {width} {height + 60}">'
        )
    ]
    for index, stage in enumerate(STAGES):
        x, top = 40 + index * (bar + gap), height
        for group in RISK_GROUPS:
            count = matrix[stage][group]
            if count:
                size = count / tallest * (height - 20)
                top -= size
                parts.append(
                    f'<rect x="{x}" y="{top:.1f}" width="{bar}" height="{size:.1f}" '
                    f'fill="{COLOURS[group]}"><title>{word(stage, language)}: {count} '
                    f"{word(group, language)}</title></rect>"
                )
        parts.append(
            f'<text x="{x + bar / 2}" y="{height + 18}" text-anchor="middle" '
            f'font-size="12">{word(stage, language)}</text>'
        )
        parts.append(
            f'<text x="{x + bar / 2}" y="{top - 4:.1f}" text-anchor="middle" '
            f'font-size="12">{sum(matrix[stage].values())}</text>'
        )
    for index, group in enumerate(RISK_GROUPS):
        parts.append(
            f'<rect x="{40 + index * 200}" y="{height + 32}" width="12" height="12" '
            f'fill="{COLOURS[group]}"/><text x="{58 + index * 200}" y="{height + 43}" '
            f'font-size="12">{word(group, language)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f3f3f3}"
    "@media print{body{margin:0}}"
)
HEADINGS = (
    N_("Title"),
    N_("Stage"),
    N_("Risk"),
    N_("Advisory Board"),
    N_("Incidents in period"),
    N_("Severe incidents in period"),
)
BY_STAGE = N_("Projects by stage and risk")
CLASSIFICATION_WORDS = {"high": N_("high risk"), "not_high": N_("not high risk")}


def risk_words(system: dict[str, Any], language: str = ENGLISH) -> str:
    """The risk cell: the CAIO's classification whenever there is one, marked when it is stale (a re-evaluation
    is due); the evaluation's status otherwise."""
    classification = CLASSIFICATION_WORDS.get(system["classification"] or "")
    if classification is None:
        return word(str(system["risk_status"]), language)
    shown = translate(classification, language)
    if system.get("classification_stale"):
        return translate(Msg("{classification} (stale: re-evaluation due)", classification=shown), language)
    return shown


def usage_rules_words(rules: dict[str, Any] | None, language: str = ENGLISH) -> str:
    if rules is None:
        return translate(N_("Usage rules for generative AI: none in force."), language)
    in_force = Msg(
        "Usage rules for generative AI in force: version {version}, {title}, effective from {effective_from} "
        "({content_hash}).",
        version=rules["version"],
        title=rules["title"],
        effective_from=rules["effective_from"],
        content_hash=rules["content_hash"],
    )
    return translate(in_force, language)


def _system_row(system: dict[str, Any], language: str = JAPANESE) -> str:
    escape = html.escape
    cells = (
        escape(system["title"]),
        escape(word(system["stage"], language)),
        escape(risk_words(system, language)),
        escape(word(system["board_status"], language)),
        system["incidents_in_period"],
        system["severe_incidents_in_period"],
    )
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def as_html(report: dict[str, Any], language: str = JAPANESE) -> str:
    """The printable page in ``language`` (Japanese unless the reader prefers English)."""
    escape = html.escape

    def t(message: str) -> str:
        return translate(message, language)

    rows = "".join(_system_row(system, language) for system in report["systems"])
    headings = "".join(f"<th>{t(heading)}</th>" for heading in HEADINGS)
    caio = report["caio"]["name"] if report["caio"] else t(N_("not designated"))
    ministry, period = escape(report["ministry"]), escape(report["period"])
    start, end = escape(report["period_start"][:10]), escape(report["period_end"][:10])
    positions = report["positions"]
    title = t(Msg("Periodic report {ministry} {period}", ministry=ministry, period=period))
    heading = t(N_("Generative AI systems: periodic report"))
    covered = t(Msg("period {period} ({start} to {end}).", period=period, start=start, end=end))
    officer = t(Msg("Chief AI Officer: {caio}. Systems: {count}.", caio=escape(caio), count=len(report["systems"])))
    systems = t(N_("Systems"))
    incidents = t(
        Msg(
            "Incidents in period: {incidents}; severe (high or critical): {severe}. Classifications stale: {stale}.",
            incidents=report.get("incidents_in_period", 0),
            severe=report.get("severe_incidents_in_period", 0),
            stale=report.get("stale_classifications", 0),
        )
    )
    as_of = escape(report.get("as_of") or t(N_("the latest events followed")))
    reflects = t(
        Msg(
            "As of {as_of}: reflects registry log position {registry} and risk log position {risk}.",
            as_of=as_of,
            registry=positions["registry"],
            risk=positions["risk"],
        )
    )
    if report.get("content_hash"):
        reflects += " " + t(Msg("Content hash: {content_hash}.", content_hash=escape(report["content_hash"])))
    return "\n".join(
        [
            "<!doctype html>",
            f'<html lang="{language}"><head><meta charset="utf-8"><title>{title}</title>',
            f"<style>{STYLE}</style></head>",
            f"<body><h1>{heading}</h1>",
            f"<p><strong>{escape(report['ministry_name'] or report['ministry'])}</strong> ({ministry}), {covered}",
            f"{officer}</p>",
            f"<p>{incidents}</p>",
            f"<p>{escape(usage_rules_words(report.get('usage_rules'), language))}</p>",
            f"<h2>{t(BY_STAGE)}</h2>",
            f'<figure id="chart">{chart_svg(report["by_stage_and_risk"], language)}</figure>',
            f"<h2>{systems}</h2>",
            f"<table><thead><tr>{headings}</tr></thead><tbody>{rows}</tbody></table>",
            f"<p><small>{reflects}</small></p>",
            "</body></html>",
        ]
    )


def public_record(state: Projection, project_id: str) -> dict[str, Any] | None:
    """Tier 1 (plain language) and tier 2 (detail), in the spirit of the UK Algorithmic Transparency Recording
    Standard."""
    doc = state.projects.get(project_id)
    if doc is None or doc["registry"] is None:
        return None
    registry, risk, board = doc["registry"], doc["risk"], doc["board"]
    details = registry["details"]
    users = "members of the public" if details.get("users") == "public" else "government staff"
    review = {
        "every_output": "Staff check every output before it is used.",
        "sampled": "Staff check a sample of outputs.",
        "none": "Outputs are used without staff checking them.",
    }.get(details.get("human_review") or "", "How staff check outputs has not been stated.")
    summary = f"{details['title']}: {details['objectives']} It is used by {users}. {review}"
    return {
        "project_id": project_id,
        "tier_1": {
            "name": details["title"],
            "summary": summary,
            "ministry": registry["ministry"],
            "stage": registry["stage"],
            "contact": details.get("owner"),
        },
        "tier_2": {
            "owner": {
                "ministry": registry["ministry"],
                "owner": details.get("owner"),
                "chief_ai_officer": caio_of(state, registry["ministry"]),
            },
            "purpose": {
                "objectives": details.get("objectives"),
                "description": details.get("description"),
                "business_area": details.get("business_area"),
                "nature_of_work": details.get("nature_of_work"),
            },
            "data": details.get("data"),
            "models": details.get("models"),
            "human_oversight": {"human_review": details.get("human_review"), "users": details.get("users")},
            "risks": {
                "status": risk["status"],
                "classification": risk["classification"],
                "advisory_board": board["status"],
                "board_advice": (board["advice"] or {}).get("opinion"),
                "decision": (board["decision"] or {}).get("decision"),
            },
        },
        "positions": dict(state.positions),
    }
