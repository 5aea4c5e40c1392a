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
- auditors read everything and write nothing; admin manages ministries, CAIO designations, rulesets, check
  sheets and checkpoints but cannot classify, advise or decide.

Reads of the registry, the risk state and the reports are open to every role: the inventory of the
government's generative-AI projects is a public record under the guideline (tier-1 summaries are
published), so a planner may see another ministry's entries but never change them. The logs themselves
(every event with its metadata, as in the export) are for oversight roles only.

Two more columns:
- ``designation``: acting in the caio role needs the registry's *current* designation of the officer, for
  every act in that role (classifications and decisions, but also amendments, transitions, procurement
  records and incidents). The service answers who is designated (``app.state.designated_officer``);
- ``as_of_now``: the action rests on another service's facts (a designation, a project's ministry and stage,
  the risk gate), so the service first waits until its followers processed the upstream logs' heads
  (``shared.consistency``): an acknowledged designation change binds every later command.

Separation of duties (GUIDELINE.md) is the ``duties`` column: lines that bind the *identity*, whatever roles
its token holds, so a token with several roles acts in each only within them (``Duty`` and ``DUTY_CHECKS``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute

from shared.auth import MINISTRY_SCOPED_ROLES, ROLES, Principal, current_principal
from shared.i18n import Msg
from shared.meta import Actor
from shared.problems import Forbidden


class Duty(StrEnum):
    """A line of separation of duties: what the identity performing an action must not also be."""

    not_self_designation = "nobody designates themselves Chief AI Officer"
    board_outside_own_ministry = "nobody advises on a submission of a ministry in which they are planner or CAIO"
    adviser_does_not_decide = "the identity that advised a submission does not decide it"
    answerer_does_not_classify = "the identity that answered or submitted an assessment does not classify it"


@dataclass(frozen=True)
class Subject:
    """The facts of the resource an action touches that separation of duties looks at."""

    ministry: str | None = None
    designee: str | None = None
    advised_by: str | None = None
    answered_by: frozenset[str] = frozenset()


def _self_designation(principal: Principal, subject: Subject) -> bool:
    return subject.designee == principal.sub


def _own_ministry_board(principal: Principal, subject: Subject) -> bool:
    return bool(principal.roles & MINISTRY_SCOPED_ROLES) and principal.ministry == subject.ministry


def _adviser_decides(principal: Principal, subject: Subject) -> bool:
    return subject.advised_by == principal.sub


def _answerer_classifies(principal: Principal, subject: Subject) -> bool:
    return principal.sub in subject.answered_by


#: Duty → whether ``principal`` acting on ``subject`` would break it.
DUTY_CHECKS: dict[Duty, Callable[[Principal, Subject], bool]] = {
    Duty.not_self_designation: _self_designation,
    Duty.board_outside_own_ministry: _own_ministry_board,
    Duty.adviser_does_not_decide: _adviser_decides,
    Duty.answerer_does_not_classify: _answerer_classifies,
}


@dataclass(frozen=True)
class Rule:
    """The roles that may perform one action, in order of preference; whether acting as CAIO needs the current
    designation; whether the action waits for the upstream logs as of now; the duties it must keep apart."""

    roles: tuple[str, ...]
    designation: bool = False
    as_of_now: bool = False
    duties: tuple[Duty, ...] = ()

    @property
    def writes(self) -> bool:
        return self is not READ and self is not PUBLIC


READ = Rule(ROLES)
PUBLIC = Rule(())
ADMIN = Rule(("admin",))
PLANNER_OR_CAIO = Rule(("planner", "caio"), designation=True)
OVERSIGHT = Rule(("auditor", "admin", "secretariat"))
# risk commands rest on the registry's facts (ministry, designation, material amendments): as of now
RISK_PLANNER = Rule(("planner",), as_of_now=True)
RISK_PLANNER_OR_CAIO = Rule(("planner", "caio"), designation=True, as_of_now=True)
RISK_CAIO = Rule(("caio",), designation=True, as_of_now=True)

#: operationId → rule. Keep sorted by service, then by the order of the routes.
POLICY: dict[str, Rule] = {
    # every service
    "healthz": PUBLIC,
    "readyz": PUBLIC,
    "metrics": PUBLIC,
    "read_log": OVERSIGHT,
    "verify_log": OVERSIGHT,
    # every service with a log: the transparency log reveals no event content, so anyone may check it
    "get_log_checkpoint": PUBLIC,
    "get_inclusion_proof": PUBLIC,
    "get_consistency_proof": PUBLIC,
    # registry
    "create_ministry": ADMIN,
    "list_ministries": READ,
    "get_ministry": READ,
    "designate_caio": Rule(("admin",), duties=(Duty.not_self_designation,)),
    "revoke_caio": ADMIN,
    "get_caio": READ,
    "get_caio_history": READ,
    "register_project": PLANNER_OR_CAIO,
    "list_projects": READ,
    "get_project": READ,
    "amend_project": PLANNER_OR_CAIO,
    "transition_project": Rule(("planner", "caio"), designation=True, as_of_now=True),  # the gate: risk's facts
    "record_procurement": PLANNER_OR_CAIO,
    "get_project_check_sheets": READ,
    "accept_check_item_risk": Rule(("caio",), designation=True),
    "record_model_change": PLANNER_OR_CAIO,
    "list_check_sheets": READ,
    "get_check_sheet": READ,
    "publish_check_sheet": ADMIN,
    "get_project_events": READ,
    # the public register: only the designated CAIO publishes, with the risk outcome as of now
    "publish_project": Rule(("caio",), designation=True, as_of_now=True),
    # registry: the ministry's usage rules and periodic-report submissions (issue 16, items 7 and 8)
    "issue_usage_rules": Rule(("caio",), designation=True),
    "list_usage_rules": READ,
    "get_usage_rules": READ,
    "submit_periodic_report": Rule(("caio",), designation=True),
    # risk
    "get_project_risk": READ,
    "list_rulesets": READ,
    "get_ruleset": READ,
    "publish_ruleset": ADMIN,
    "rescore_ruleset": OVERSIGHT,
    "open_assessment": RISK_PLANNER,
    "get_assessment": READ,
    "record_answers": RISK_PLANNER,
    "submit_assessment": RISK_PLANNER,
    "classify_assessment": Rule(("caio",), designation=True, as_of_now=True, duties=(Duty.answerer_does_not_classify,)),
    "draft_board_submission": RISK_PLANNER,
    "edit_board_submission": RISK_PLANNER,
    "get_board_submission": READ,
    "get_board_submission_history": READ,
    "submit_board_submission": RISK_CAIO,
    "record_board_advice": Rule(
        ("board_member", "secretariat"), as_of_now=True, duties=(Duty.board_outside_own_ministry,)
    ),
    "record_caio_decision": Rule(("caio",), designation=True, as_of_now=True, duties=(Duty.adviser_does_not_decide,)),
    "get_board_queue": Rule(("board_member", "secretariat", "auditor")),
    "record_incident": RISK_PLANNER_OR_CAIO,
    "get_incident": READ,
    "report_incident": RISK_CAIO,
    "close_incident": RISK_PLANNER_OR_CAIO,
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
    # the public register: no token; it serves only what the designated CAIO published
    "list_public_projects": PUBLIC,
    "get_public_projects_csv": PUBLIC,
    "get_public_projects_html": PUBLIC,
    "get_public_project_html": PUBLIC,
    "get_public_project": PUBLIC,
    "get_public_project_version": PUBLIC,
    # reporting: periodic-report submissions and usage rules (issue 16, items 7 and 8)
    "get_periodic_submissions": READ,
    "get_submitted_periodic_report": READ,
    "get_usage_rules_in_force": READ,
    "get_public_usage_rules": PUBLIC,
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


def authorize(
    request: Request, principal: Principal, ministry: str | None = None, subject: Subject | None = None
) -> Actor:
    """The actor ``principal`` becomes for this request's action within ``ministry``, or 403 problem+json:
    the role and ministry columns, the separation of duties on ``subject``, and the current designation."""
    operation = operation_of(request)
    rule = rule_for(operation)
    actor = principal.act_as(*rule.roles, ministry=ministry)
    if rule.duties and subject is None:
        raise LookupError(f"{operation} keeps duties apart: its route must pass the Subject it acts on")
    keep_duties_apart(rule, principal, subject or Subject())
    if rule.designation and actor.role == "caio":
        require_designation(request, principal, ministry)
    return actor


def keep_duties_apart(rule: Rule, principal: Principal, subject: Subject) -> None:
    """403 naming the first duty of ``rule`` that ``principal`` acting on ``subject`` would break."""
    for duty in rule.duties:
        if DUTY_CHECKS[duty](principal, subject):
            raise Forbidden(Msg("Separation of duties: {duty}.", duty=duty.value), duty=duty.name)


def require_designation(request: Request, principal: Principal, ministry: str | None) -> None:
    """403 unless the service's record of the ministry's current CAIO names this identity."""
    designated: Callable[[str], str | None] | None = getattr(request.app.state, "designated_officer", None)
    if designated is None:
        raise LookupError("a service serving actions that need the designation sets app.state.designated_officer")
    if ministry is None or designated(ministry) != principal.sub:
        raise Forbidden(
            Msg(
                "{sub} is not the designated Chief AI Officer of {ministry} in the registry; acting as CAIO needs "
                "the current designation.",
                sub=principal.sub,
                ministry=ministry or "any ministry",
            )
        )


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
