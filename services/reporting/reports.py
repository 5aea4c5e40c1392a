"""Reports as pure functions of a ``Projection``: the same answers live, as of any moment, and offline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.registry.contract import publication_out_of_date
from services.reporting.projection import NOT_KNOWN_TO_RISK, Projection, sheets_not_answered
from services.risk.contract import BoardStatus, OpenAssessment, PendingStep, RiskStatus, has_expired, pending_steps


def _registered(state: Projection) -> list[dict[str, Any]]:
    docs = [doc for doc in state.projects.values() if doc["registry"] is not None]
    return sorted(docs, key=lambda doc: (doc["registry"]["registered_at"], doc["project_id"]))


def caio_of(state: Projection, ministry: str) -> dict[str, Any] | None:
    return (state.ministries.get(ministry) or {}).get("caio")


def inventory_item(state: Projection, doc: dict[str, Any]) -> dict[str, Any]:
    registry, risk, board = doc["registry"], doc["risk"], doc["board"]
    return {
        "project_id": doc["project_id"],
        "ministry": registry["ministry"],
        "title": registry["title"],
        "stage": registry["stage"],
        "risk_status": risk["status"],
        "classification": risk["classification"],
        "board_status": board["status"],
        "caio": caio_of(state, registry["ministry"]),
        "incidents": len(doc["incidents"]),
        "check_sheets": registry.get("check_sheets") or sheets_not_answered(),
        "registered_at": registry["registered_at"],
        "updated_at": registry["updated_at"],
    }


def inventory(
    state: Projection, ministry: str | None = None, stage: str | None = None, risk: str | None = None
) -> list[dict[str, Any]]:
    items = [inventory_item(state, doc) for doc in _registered(state)]
    return [
        item
        for item in items
        if (not ministry or item["ministry"] == ministry)
        and (not stage or item["stage"] == stage)
        and (not risk or item["risk_status"] == risk)
    ]


def high_risk_register(state: Projection) -> list[dict[str, Any]]:
    register = []
    for doc in _registered(state):
        if doc["risk"]["classification"] != "high":
            continue
        board = doc["board"]
        register.append(
            {
                **inventory_item(state, doc),
                "classified_at": doc["risk"]["classified_at"],
                "submission": {"id": board["submission_id"], "submitted_at": board["submitted_at"]}
                if board["submission_id"]
                else None,
                "advice": board["advice"],
                "decision": board["decision"],
                "previous_submission": board.get("previous"),
            }
        )
    return register


#: How reporting words each pending step (the rule of what is pending is the risk contract's ``pending_steps``).
PENDING_WORDS = {
    PendingStep.evaluation: "risk evaluation due",
    PendingStep.answers: "assessment {subject} to be answered and submitted",
    PendingStep.classification: "classification of assessment {subject}",
    PendingStep.stale_reevaluation: "re-evaluation due (classification stale)",
    PendingStep.expired_reevaluation: "re-evaluation due (classification expired)",
    PendingStep.board_submission: "Advisory Board submission",
    PendingStep.board_advice: "Advisory Board advice on submission {subject}",
    PendingStep.decision: "CAIO decision on submission {subject}",
}


#: How reporting words a public record that no longer reflects the project (the rule: the registry contract).
REPUBLICATION = "public register entry out of date: publish the record again"


def out_of_date(registry: dict[str, Any]) -> bool:
    """Whether the project changed after its last publication (never published: not out of date)."""
    publications = registry.get("publications") or []
    published_version = publications[-1]["project_version"] if publications else None
    return publication_out_of_date(published_version, registry.get("version") or 0)


def pending_for(doc: dict[str, Any], now: datetime | None = None) -> list[dict[str, Any]]:
    """What waits on whom for one project: the risk contract's steps, then a republication due on the CAIO."""
    ministry = doc["registry"]["ministry"]
    steps = _risk_steps(doc, now)
    if out_of_date(doc["registry"]):
        steps.append({"what": REPUBLICATION, "role": "caio", "ministry": ministry})
    return steps


def _risk_steps(doc: dict[str, Any], now: datetime | None) -> list[dict[str, Any]]:
    ministry, risk, board = doc["registry"]["ministry"], doc["risk"], doc["board"]
    if risk["status"] == NOT_KNOWN_TO_RISK:
        return []
    assessment = risk["assessment"] or {}
    open_assessment = None
    if assessment.get("state") in ("draft", "submitted"):
        open_assessment = OpenAssessment(assessment["id"], assessment["state"] == "submitted")
    expires_at = datetime.fromisoformat(risk["expires_at"]) if risk.get("expires_at") else None
    classified = risk["status"] in (RiskStatus.classified_high, RiskStatus.classified_not_high)
    expired = classified and has_expired(expires_at, now or datetime.now(UTC))
    steps = pending_steps(
        ministry,
        RiskStatus(risk["status"]),
        BoardStatus(board["status"]),
        open_assessment,
        expired,
        board.get("submission_id"),
    )
    return [
        {
            "what": PENDING_WORDS[step.step].format(subject=step.subject),
            "role": step.role.value,
            "ministry": step.ministry,
        }
        for step in steps
    ]


def pending(state: Projection, ministry: str | None = None, role: str | None = None) -> list[dict[str, Any]]:
    items = []
    for doc in _registered(state):
        if ministry and doc["registry"]["ministry"] != ministry:
            continue
        for waiting in pending_for(doc):
            if role and waiting["role"] != role:
                continue
            items.append(
                {
                    "project_id": doc["project_id"],
                    "title": doc["registry"]["title"],
                    "project_ministry": doc["registry"]["ministry"],
                    **waiting,
                }
            )
    return items


def project_state(state: Projection, project_id: str) -> dict[str, Any] | None:
    doc = state.projects.get(project_id)
    if doc is None or doc["registry"] is None:
        return None
    return {
        **doc,
        "incidents": list(doc["incidents"].values()),
        "caio": caio_of(state, doc["registry"]["ministry"]),
        "positions": dict(state.positions),
    }
