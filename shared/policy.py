"""Who may do what: one table, role × action × scope, consulted by every route of the three services.

Why one table: an auditor (or a new colleague) must be able to read who may do what without reading the
routers, and a route that is not in the table must not start (``require_complete_policy``), so a new
endpoint cannot ship without a decision about who may call it.

Actions are the routes' OpenAPI ``operationId``s. Scope rules, applied by ``Principal.act_as``:
- planner and CAIO act only for their own ministry (the ministry of the project, assessment, submission or
  incident the action touches), and a CAIO's decisions also need the registry's *current* designation
  (``designation=True``; checked by the risk service against the designation it followed from the log);
- board members and the secretariat act across ministries, but only on what was submitted to the Board:
  the domain refuses advice on a submission that is not awaiting it;
- auditors read everything and write nothing; admin manages ministries, CAIO designations, rulesets and
  checkpoints but cannot classify, advise or decide.

Reads of the registry, the risk state and the reports are open to every role: the inventory of the
government's generative-AI projects is a public record under the guideline (tier-1 summaries are
published), so a planner may see another ministry's entries but never change them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute

from shared.auth import ROLES, Principal, current_principal
from shared.meta import Actor


@dataclass(frozen=True)
class Rule:
    """The roles that may perform one action, in order of preference, and whether it needs the designated CAIO."""

    roles: tuple[str, ...]
    designation: bool = False

    @property
    def writes(self) -> bool:
        return self is not READ and self is not PUBLIC


READ = Rule(ROLES)
PUBLIC = Rule(())
ADMIN = Rule(("admin",))
PLANNER = Rule(("planner",))
PLANNER_OR_CAIO = Rule(("planner", "caio"))
DESIGNATED_CAIO = Rule(("caio",), designation=True)
BOARD = Rule(("board_member", "secretariat"))
OVERSIGHT = Rule(("auditor", "admin", "secretariat"))

#: operationId → rule. Keep sorted by service, then by the order of the routes.
POLICY: dict[str, Rule] = {
    # every service
    "healthz": PUBLIC,
    "readyz": PUBLIC,
    "metrics": PUBLIC,
    "read_log": READ,
    "verify_log": READ,
    # every service with a log: the transparency log reveals no event content, so anyone may check it
    "get_log_checkpoint": PUBLIC,
    "get_inclusion_proof": PUBLIC,
    "get_consistency_proof": PUBLIC,
    # registry
    "create_ministry": ADMIN,
    "list_ministries": READ,
    "get_ministry": READ,
    "designate_caio": ADMIN,
    "revoke_caio": ADMIN,
    "get_caio": READ,
    "get_caio_history": READ,
    "register_project": PLANNER_OR_CAIO,
    "list_projects": READ,
    "get_project": READ,
    "amend_project": PLANNER_OR_CAIO,
    "transition_project": PLANNER_OR_CAIO,
    "record_procurement": PLANNER_OR_CAIO,
    "get_project_events": READ,
    # risk
    "get_project_risk": READ,
    "list_rulesets": READ,
    "get_ruleset": READ,
    "publish_ruleset": ADMIN,
    "rescore_ruleset": OVERSIGHT,
    "open_assessment": PLANNER,
    "get_assessment": READ,
    "record_answers": PLANNER,
    "submit_assessment": PLANNER,
    "classify_assessment": DESIGNATED_CAIO,
    "draft_board_submission": PLANNER,
    "get_board_submission": READ,
    "submit_board_submission": DESIGNATED_CAIO,
    "record_board_advice": BOARD,
    "record_caio_decision": DESIGNATED_CAIO,
    "get_board_queue": Rule(("board_member", "secretariat", "auditor")),
    "record_incident": PLANNER_OR_CAIO,
    "get_incident": READ,
    "report_incident": DESIGNATED_CAIO,
    "close_incident": PLANNER_OR_CAIO,
    # reporting
    "get_inventory": READ,
    "get_inventory_csv": READ,
    "get_high_risk_register": READ,
    "get_pending": READ,
    "get_periodic_report": READ,
    "get_periodic_report_csv": READ,
    "get_periodic_report_html": READ,
    "get_public_record": READ,
    "get_project_timeline": READ,
    "get_project_state": READ,
    "export_audit_log": OVERSIGHT,
    "list_checkpoints": READ,
    "take_checkpoints": ADMIN,
    "get_public_key": PUBLIC,
}


def rule_for(operation_id: str) -> Rule:
    """The rule of one action; an action missing from the table is a programming error, never a pass."""
    try:
        return POLICY[operation_id]
    except KeyError:
        raise LookupError(f"no policy line for the operation {operation_id!r}: add one to shared/policy.py") from None


def operation_of(request: Request) -> str:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.operation_id:
        raise LookupError(f"{request.method} {request.url.path} has no operationId, so no policy line")
    return route.operation_id


def authorize(request: Request, principal: Principal, ministry: str | None = None) -> Actor:
    """The actor ``principal`` becomes for this request's action within ``ministry``, or 403 problem+json."""
    rule = rule_for(operation_of(request))
    return principal.act_as(*rule.roles, ministry=ministry)


def enforce_policy(request: Request) -> None:
    """App-wide dependency: 401/403 from the role column before the body is even read.

    The ministry column needs the resource, so the route applies it with ``authorize`` once it has loaded it."""
    rule = rule_for(operation_of(request))
    if rule is not PUBLIC:
        current_principal(request).act_as(*rule.roles)


def operations(app: FastAPI) -> Iterable[tuple[str, str, str]]:
    """(operationId, method, path) of every route the app serves, documented or not."""
    yield from _operations(app.routes, "")


def _operations(routes: Iterable[Any], prefix: str) -> Iterable[tuple[str, str, str]]:
    for route in routes:
        if isinstance(route, APIRoute):
            for method in sorted(route.methods):
                yield route.operation_id or "", method, prefix + route.path
        elif hasattr(route, "original_router"):  # FastAPI ≥ 0.160 keeps included routers as nested routes
            yield from _operations(route.original_router.routes, prefix + getattr(route.include_context, "prefix", ""))


def require_complete_policy(app: FastAPI) -> None:
    """Refuse to build an app with a route the table does not decide."""
    missing = sorted(
        f"{method} {path} ({operation or 'no operationId'})"
        for operation, method, path in operations(app)
        if operation not in POLICY
    )
    if missing:
        raise LookupError("routes without a policy line in shared/policy.py: " + "; ".join(missing))
