"""The reporting projection: a pure fold of the registry and risk logs into project and ministry documents.

It reads log entries as plain JSON envelopes (``LogEntry.as_dict()``, or lines of an export file), so the
live read models, replays "as of" any moment, rebuilds, and the offline CLI all run this one piece of code.
The registry part and the risk part of a project document are written by different logs only, so the fold
gives the same documents whatever the interleaving of the two logs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from services.risk.contract import BoardStatus, board_status_after, is_severe

Envelope = dict[str, Any]
NOT_KNOWN_TO_RISK = "not_known_to_risk"
SHEET_KINDS = ("procurement", "contract")


def sheets_not_answered() -> list[dict[str, Any]]:
    """Each check sheet's status before the project answers any (the registry records the status it computes
    with every answer, acceptance and reopening: reporting shows the last one)."""
    return [
        {"kind": kind, "sheet_id": None, "version": None, "state": "not_answered", "missing": [], "unaccepted": []}
        for kind in SHEET_KINDS
    ]


def new_project(project_id: str) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "registry": None,
        "risk": {
            "status": NOT_KNOWN_TO_RISK,
            "classification": None,
            "classified_at": None,
            "expires_at": None,
            "override": False,
            "assessment": None,
            "stale_causes": [],
        },
        "board": {
            "status": "not_required",
            "submission_id": None,
            "submitted_at": None,
            "advice": None,
            "decision": None,
            "revisions": {},
            "previous": None,
        },
        "incidents": {},
    }


@dataclass
class Projection:
    """Documents per project and per ministry, and the log positions they reflect."""

    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    ministries: dict[str, dict[str, Any]] = field(default_factory=dict)
    ministry_codes: dict[str, str] = field(default_factory=dict)
    aggregates: dict[str, str] = field(default_factory=dict)
    project_events: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    positions: dict[str, int] = field(default_factory=lambda: {"registry": 0, "risk": 0})
    changed_projects: set[str] = field(default_factory=set)
    changed_ministries: set[str] = field(default_factory=set)
    changed_aggregates: set[str] = field(default_factory=set)
    new_project_events: list[tuple[str, str, int]] = field(default_factory=list)

    def copy(self) -> Projection:
        return copy.deepcopy(self)

    def take_changes(self) -> tuple[set[str], set[str], set[str], list[tuple[str, str, int]]]:
        """What changed since the last call (for writing only the touched rows)."""
        changes = (self.changed_projects, self.changed_ministries, self.changed_aggregates, self.new_project_events)
        self.changed_projects, self.changed_ministries, self.changed_aggregates, self.new_project_events = (
            set(),
            set(),
            set(),
            [],
        )
        return changes

    # -- folding -----------------------------------------------------------------------------------

    def apply(self, entry: Envelope) -> None:
        service, position = entry["service"], entry["position"]
        if position <= self.positions.get(service, 0):
            return  # already folded in: a replayed batch never applies twice
        handler = _HANDLERS.get(entry["type"])
        project_id = handler(self, entry) if handler else None
        if project_id is not None:
            self.project_events.setdefault(project_id, []).append((service, position))
            self.new_project_events.append((project_id, service, position))
        self.positions[service] = position

    def project(self, project_id: str) -> dict[str, Any]:
        if project_id not in self.projects:
            self.projects[project_id] = new_project(project_id)
        self.changed_projects.add(project_id)
        return self.projects[project_id]

    def link(self, aggregate_id: str, project_id: str) -> None:
        self.aggregates[aggregate_id] = project_id
        self.changed_aggregates.add(aggregate_id)

    def project_of(self, entry: Envelope) -> dict[str, Any] | None:
        project_id = self.aggregates.get(entry["aggregate_id"])
        return self.project(project_id) if project_id else None


# -- registry events ----------------------------------------------------------------------------------


def _ministry_established(state: Projection, entry: Envelope) -> None:
    data = entry["data"]
    state.ministries[data["code"]] = {
        "ministry": data["code"],
        "ministry_id": entry["aggregate_id"],
        "name": data["name"],
        "caio": None,
    }
    state.ministry_codes[entry["aggregate_id"]] = data["code"]
    state.changed_ministries.add(data["code"])


def _caio_changed(state: Projection, entry: Envelope) -> None:
    code = state.ministry_codes[entry["aggregate_id"]]
    data = entry["data"]
    state.ministries[code]["caio"] = (
        {"officer_id": data["officer_id"], "name": data["name"]}
        if entry["type"] == "ChiefAIOfficerDesignated"
        else None
    )
    state.changed_ministries.add(code)


def _project_registered(state: Projection, entry: Envelope) -> str:
    project = state.project(entry["aggregate_id"])
    data = entry["data"]
    project["registry"] = {
        "ministry": data["ministry"],
        "title": data["details"]["title"],
        "stage": "planning",
        "details": data["details"],
        "procurement": None,
        "check_sheets": sheets_not_answered(),
        "registered_at": entry["occurred_at"],
        "updated_at": entry["occurred_at"],
        "registered_by": entry["meta"]["actor_id"],
        "version": entry["aggregate_version"],
        "publications": [],
    }
    return entry["aggregate_id"]


def _project_changed(state: Projection, entry: Envelope) -> str:
    registry = state.project(entry["aggregate_id"])["registry"]
    data = entry["data"]
    if entry["type"] == "ProjectAmended":
        registry["details"].update(data["changes"])
        registry["title"] = registry["details"]["title"]
    elif entry["type"] == "ProjectStageChanged":
        registry["stage"] = data["to_stage"]
    elif entry["type"] == "ProcurementRecorded":
        registry["procurement"] = data["record"]
        registry["check_sheets"] = sheets_not_answered()  # free-form answers (version 1) answer no sheet
    elif entry["type"] == "CheckSheetsAnswered":
        registry["procurement"] = {
            "vendor": data["vendor"],
            "contract_reference": data["contract_reference"],
            **{
                f"{kind}_checks": [
                    {"item": answer["item"], "answer": answer["answer"], "note": answer["note"]}
                    for sheet in data["sheets"]
                    if sheet["kind"] == kind
                    for answer in sheet["answers"]
                ]
                for kind in SHEET_KINDS
            },
        }
    elif entry["type"] == "ProjectPublished":
        registry.setdefault("publications", []).append(
            {
                "publication": data["publication"],
                "published_at": entry["occurred_at"],
                "project_version": entry["aggregate_version"],
                "log": {"service": entry["service"], "position": entry["position"], "hash": entry.get("hash")},
                "record": data["record"],
                "withheld": data["withheld"],
            }
        )
    if "status" in data and entry["type"] in SHEET_EVENTS:
        registry["check_sheets"] = data["status"]
    registry["version"] = entry["aggregate_version"]
    if entry["type"] != "ProjectPublished":
        registry["updated_at"] = entry["occurred_at"]
    return entry["aggregate_id"]


SHEET_EVENTS = ("CheckSheetsAnswered", "CheckItemRiskAccepted", "CheckSheetReopened", "CheckSheetStatusChanged")


# -- risk events ----------------------------------------------------------------------------------------


def _linked(state: Projection, entry: Envelope) -> str:
    """Events that create a risk aggregate name their project: remember which project the aggregate is about."""
    project_id = entry["data"]["project_id"]
    state.link(entry["aggregate_id"], project_id)
    project = state.project(project_id)
    if entry["type"] == "RiskEvaluationBecameDue":
        project["risk"]["status"] = "due"
    elif entry["type"] == "BoardSubmissionDrafted":
        project["board"].setdefault("drafts", []).append(entry["aggregate_id"])
        revises = entry["data"].get("previous_submission_id")
        if revises:
            project["board"].setdefault("revisions", {})[entry["aggregate_id"]] = revises
    elif entry["type"] == "IncidentRecorded":
        details = entry["data"]["details"]
        project["incidents"][entry["aggregate_id"]] = {
            "id": entry["aggregate_id"],
            "occurred_at": details["occurred_at"],
            "recorded_at": entry["occurred_at"],
            "severity": details["severity"],
            "harm": details["harm"],
            "what_happened": details["what_happened"],
            "reported_to_digital_agency": None,
            "closed": None,
        }
    elif entry["type"] == "AssessmentOpened":
        data = entry["data"]
        project["risk"]["assessment"] = {
            "id": entry["aggregate_id"],
            "state": "draft",
            "ruleset": f"{data['ruleset_id']}@{data['ruleset_version']}",
            "likely_high_risk": None,
            "level": None,
        }
    return project_id


def _project_risk(state: Projection, entry: Envelope) -> str | None:
    project = state.project_of(entry)
    if project is None:
        return None
    risk, board, data = project["risk"], project["board"], entry["data"]
    kind = entry["type"]
    if kind == "AssessmentStarted" and risk["status"] == "due":
        risk["status"] = "in_progress"
    elif kind == "ProjectClassified":
        risk.update(
            status="classified_high" if data["classification"] == "high" else "classified_not_high",
            classification=data["classification"],
            classified_at=entry["occurred_at"],
            expires_at=data["expires_at"],
        )
        board.update(
            status=board_status_after(kind, data, BoardStatus(board["status"])).value,
            submission_id=None,
            submitted_at=None,
            advice=None,
            decision=None,
            previous=None,
        )
    elif kind == "ClassificationBecameStale" or (
        kind == "IncidentNoted" and is_severe(data["severity"]) and risk["status"].startswith("classified")
    ):
        risk["status"] = "stale"
        risk["stale_causes"].append(data.get("cause") or f"severe incident {data['incident_id']}")
    return project["project_id"]


def _revised(board: dict[str, Any], submission_id: str) -> dict[str, Any] | None:
    """The submission that ``submission_id`` revises, as the register shows it beside the revision: its advice
    and decision when it was the one with the Board until now."""
    previous_id = board.get("revisions", {}).get(submission_id)
    if previous_id is None:
        return None
    if board["submission_id"] != previous_id:
        return {"id": previous_id, "submitted_at": None, "advice": None, "decision": None}
    return {key: board[key] for key in ("submitted_at", "advice", "decision")} | {"id": previous_id}


def _assessment(state: Projection, entry: Envelope) -> str | None:
    project = state.project_of(entry)
    if project is None:
        return None
    assessment = project["risk"]["assessment"]
    if assessment is None or assessment["id"] != entry["aggregate_id"]:
        return project["project_id"]
    if entry["type"] == "AssessmentScreened":
        screening = entry["data"]["screening"]
        assessment.update(
            state="submitted",
            likely_high_risk=screening["likely_high_risk"],
            level=screening["level"],
            high_viewpoints=screening["high_viewpoints"],
        )
    elif entry["type"] == "AssessmentClassified":
        assessment["state"] = "classified"
        project["risk"]["override"] = entry["data"]["override"]
        project["risk"]["reasons"] = entry["data"]["reasons"]
    return project["project_id"]


def _submission(state: Projection, entry: Envelope) -> str | None:
    """A Board step, recorded once on its submission (old logs' legacy project-level names are not read: the
    submission's own events, linked to the project when drafted, carry every step there too)."""
    project = state.project_of(entry)
    if project is None:
        return None
    board, data = project["board"], entry["data"]
    if entry["type"] == "BoardSubmissionSubmitted":
        previous = _revised(board, entry["aggregate_id"])
        board.update(submission_id=entry["aggregate_id"], submitted_at=entry["occurred_at"], advice=None, decision=None)
        board["previous"] = previous
    elif board["submission_id"] != entry["aggregate_id"]:
        return project["project_id"]
    board["status"] = board_status_after(entry["type"], data, BoardStatus(board["status"])).value
    if entry["type"] == "BoardAdviceRecorded":
        board["advice"] = {
            "opinion": data["opinion"],
            "text": data["text"],
            "conditions": data["conditions"],
            "at": entry["occurred_at"],
        }
    elif entry["type"] == "CaioDecisionRecorded":
        board["decision"] = {
            "decision": data["decision"],
            "reasons": data["reasons"],
            "condition_responses": data["condition_responses"],
            "at": entry["occurred_at"],
            "by": entry["meta"]["actor_id"],
        }
    return project["project_id"]


def _incident(state: Projection, entry: Envelope) -> str | None:
    project = state.project_of(entry)
    if project is None:
        return None
    incident = project["incidents"].get(entry["aggregate_id"])
    if incident is not None:
        key = "reported_to_digital_agency" if entry["type"] == "IncidentReportedToDigitalAgency" else "closed"
        incident[key] = entry["occurred_at"]
    return project["project_id"]


_HANDLERS: dict[str, Any] = {
    "MinistryEstablished": _ministry_established,
    "ChiefAIOfficerDesignated": _caio_changed,
    "ChiefAIOfficerRevoked": _caio_changed,
    "ProjectRegistered": _project_registered,
    "ProjectAmended": _project_changed,
    "ProjectStageChanged": _project_changed,
    "ProcurementRecorded": _project_changed,
    "CheckSheetsAnswered": _project_changed,
    "CheckItemRiskAccepted": _project_changed,
    "CheckSheetReopened": _project_changed,
    "CheckSheetStatusChanged": _project_changed,
    "ModelChangeNoticed": _project_changed,
    "ProjectPublished": _project_changed,
    "RiskEvaluationBecameDue": _linked,
    "AssessmentOpened": _linked,
    "BoardSubmissionDrafted": _linked,
    "IncidentRecorded": _linked,
    "AssessmentStarted": _project_risk,
    "ProjectClassified": _project_risk,
    "ClassificationBecameStale": _project_risk,
    "IncidentNoted": _project_risk,
    "AssessmentAnswersRecorded": _assessment,
    "AssessmentScreened": _assessment,
    "AssessmentClassified": _assessment,
    "BoardSubmissionSubmitted": _submission,
    "BoardAdviceRecorded": _submission,
    "CaioDecisionRecorded": _submission,
    "IncidentReportedToDigitalAgency": _incident,
    "IncidentClosed": _incident,
}
