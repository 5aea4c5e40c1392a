"""Reports as pure functions of a ``Projection``: the same answers live, as of any moment, and offline."""

from __future__ import annotations

from typing import Any

from services.reporting.projection import Projection


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
            }
        )
    return register


def pending_for(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """What waits on whom for one project."""
    ministry, risk, board = doc["registry"]["ministry"], doc["risk"], doc["board"]
    assessment = risk["assessment"] or {}
    waiting: list[dict[str, Any]] = []
    if risk["status"] == "due":
        waiting.append({"what": "risk evaluation due", "role": "planner", "ministry": ministry})
    elif risk["status"] == "stale":
        waiting.append({"what": "re-evaluation due (classification stale)", "role": "planner", "ministry": ministry})
    if assessment.get("state") == "draft" and risk["status"] in ("in_progress", "stale"):
        waiting.append(
            {
                "what": f"assessment {assessment['id']} to be answered and submitted",
                "role": "planner",
                "ministry": ministry,
            }
        )
    if assessment.get("state") == "submitted":
        waiting.append(
            {"what": f"classification of assessment {assessment['id']}", "role": "caio", "ministry": ministry}
        )
    if risk["status"] == "classified_high":
        if board["status"] in ("submission_required", "resubmission_required"):
            waiting.append({"what": "Advisory Board submission", "role": "caio", "ministry": ministry})
        elif board["status"] == "awaiting_advice":
            waiting.append(
                {
                    "what": f"Advisory Board advice on submission {board['submission_id']}",
                    "role": "board_member",
                    "ministry": None,
                }
            )
        elif board["status"] == "awaiting_decision":
            waiting.append(
                {"what": f"CAIO decision on submission {board['submission_id']}", "role": "caio", "ministry": ministry}
            )
    return waiting


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
