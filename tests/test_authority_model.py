"""Issue 13, acceptance 5: a model-based test of the whole process, through HTTP against the running services.

A hypothesis ``RuleBasedStateMachine`` drives random sequences of designations and replacements, registrations,
amendments, assessments, classifications, Board submissions, advice, decisions, transitions and incidents, by
random actors (the right and the wrong ministry, replaced officers, tokens with combined roles), beside
``Guideline``: a small model of the guideline's rules written from GUIDELINE.md, independently of the services'
code. After every command: a command the model forbids was refused (4xx) and left no event in either log, a
command it allows succeeded; the gate before operation opens exactly when the model says. At the end of each run,
the read models (registry, risk, reporting) equal the model's state.

Size: ``AIGOV_MODEL_EXAMPLES`` runs of ``AIGOV_MODEL_STEPS`` commands per backend (CI: 5 × 20). For a longer
search: ``AIGOV_MODEL_EXAMPLES=100 AIGOV_MODEL_STEPS=40 .venv/bin/python -m pytest tests/test_authority_model.py``.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

from services.registry import sheets as checksheets
from tests.support import ServiceStack, project_body
from tests.support.scenarios import HIGH_RISK, LOW_RISK, complete_submission

# Entities are drawn in the order they were created, never by their (random, server-made) ids: a replay of a
# sequence then draws the same entities, as hypothesis needs to shrink a counterexample.
EXAMPLES = int(os.environ.get("AIGOV_MODEL_EXAMPLES", "5"))
STEPS = int(os.environ.get("AIGOV_MODEL_STEPS", "20"))
ANY = {"If-Match": "*"}
FULL_SHEETS = {
    "vendor": "Vendor KK",
    "contract_reference": "C-1",
    **{
        f"{sheet.kind.value}_sheet": {
            "sheet_id": sheet.id,
            "version": sheet.version,
            "answers": [{"item": item.id, "answer": "met"} for item in sheet.items],
        }
        for sheet in map(checksheets.parse, checksheets.shipped_contents())
    },
}
MAX_PROJECTS = 3  # a few projects suffice; the steps go into their process instead


# -- the model: the guideline's rules, written from GUIDELINE.md ---------------------------------------------------


@dataclass(frozen=True)
class Who:
    sub: str
    roles: frozenset[str]
    ministry: str | None


@dataclass
class Assessment:
    project: str
    answered_by: set[str]
    submitted: bool = False
    classified: bool = False


@dataclass
class Submission:
    project: str
    assessment: str
    status: str = "draft"  # draft → awaiting_advice → awaiting_decision → decided
    advised_by: str | None = None


@dataclass
class Project:
    ministry: str
    users: str = "staff_only"
    stage: str = "planning"
    suspended_from: str | None = None
    open_assessment: str | None = None
    classified: str | None = None  # the assessment of the current classification (None when none or stale)
    high: bool = False
    with_board: str | None = None  # the submission the Board holds for the current classification
    proceed: bool = False
    sheets_answered: bool = False  # both check sheets answered in full (every item met)


FORWARD = {"planning": "procurement", "procurement": "development", "development": "operation"}
STAGES = ("planning", "procurement", "development", "operation", "suspended", "retired")


@dataclass
class Guideline:
    """What the guideline allows, and what each allowed command changes."""

    designated: dict[str, str | None] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)
    assessments: dict[str, Assessment] = field(default_factory=dict)
    submissions: dict[str, Submission] = field(default_factory=dict)

    # who may act
    def planner(self, who: Who, ministry: str) -> bool:
        return "planner" in who.roles and who.ministry == ministry

    def caio(self, who: Who, ministry: str) -> bool:
        return "caio" in who.roles and who.ministry == ministry and self.designated.get(ministry) == who.sub

    def planner_or_caio(self, who: Who, ministry: str) -> bool:
        """A token holding both acts as planner (the first role of the line)."""
        return self.planner(who, ministry) if "planner" in who.roles else self.caio(who, ministry)

    # the lifecycle and the gate
    def allowed_stages(self, project: Project) -> set[str]:
        if project.stage == "retired":
            return set()
        allowed = {"retired"}
        if project.stage in FORWARD:
            allowed.add(FORWARD[project.stage])
        if project.stage in ("development", "operation"):
            allowed.add("suspended")
        if project.stage == "suspended" and project.suspended_from:
            allowed.add(project.suspended_from)
        return allowed

    def gate_open(self, project: Project, to: str) -> bool:
        """The gates before development (the procurement sheet) and operation (both sheets, the risk process)."""
        if not project.sheets_answered:
            return False
        if to == "development":
            return True
        if project.classified is None:
            return False
        return not project.high or project.proceed

    def current(self, submission: Submission) -> bool:
        return self.projects[submission.project].classified == submission.assessment

    def supersede(self, project: Project) -> None:
        project.classified, project.with_board, project.proceed = None, None, False


class Process(RuleBasedStateMachine):
    """The services under random commands, beside ``Guideline``."""

    stack: ServiceStack

    def __init__(self) -> None:
        super().__init__()
        self.model = Guideline()
        self.home, self.foreign = f"H{uuid.uuid4().hex[:7].upper()}", f"F{uuid.uuid4().hex[:7].upper()}"
        officer = f"o-{self.home.lower()}"
        self.actors = {
            "root": Who("root", frozenset({"admin"}), None),
            "admin+caio": Who(officer + "-ada", frozenset({"admin", "caio"}), self.home),
            "officer1": Who(officer + "-1", frozenset({"caio"}), self.home),
            "officer2": Who(officer + "-2", frozenset({"caio"}), self.home),
            "officer1 as planner+caio": Who(officer + "-1", frozenset({"planner", "caio"}), self.home),
            "officer2 as caio+board": Who(officer + "-2", frozenset({"caio", "board_member"}), self.home),
            "officer1 as board": Who(officer + "-1", frozenset({"board_member"}), None),
            "planner": Who(f"p-{self.home.lower()}", frozenset({"planner"}), self.home),
            "foreign planner": Who(f"p-{self.foreign.lower()}", frozenset({"planner"}), self.foreign),
            "foreign caio": Who(f"o-{self.foreign.lower()}", frozenset({"caio"}), self.foreign),
            "board": Who("board-1", frozenset({"board_member"}), None),
        }
        self.officers = [self.actors[name].sub for name in ("officer1", "officer2", "admin+caio")]
        root = self.client("registry", "root")
        for code in (self.home, self.foreign):
            assert root.post("/v1/ministries", json={"code": code, "name": code}).status_code == 201
            self.model.designated[code] = None
        for code, officer in ((self.foreign, "foreign caio"), (self.home, "officer1")):
            self.expect("designate", True, lambda c=code, o=officer: self.designate_call("root", c, self.actors[o].sub))
            self.model.designated[code] = self.actors[officer].sub

    # -- plumbing --------------------------------------------------------------------------------------------

    def pick(self, data: st.DataObject, everyone: list[str], preferred: list[str]) -> str:
        """An actor: half the time one the model expects to succeed (so that runs go deep into the process),
        otherwise anyone from ``everyone`` (wrong ministry, replaced officer, combined roles)."""
        return data.draw(st.one_of(st.sampled_from(preferred or everyone), st.sampled_from(everyone)), label="actor")

    def designated_names(self, *names: str) -> list[str]:
        return [name for name in names if self.actors[name].sub == self.model.designated[self.home]]

    def client(self, service: str, actor: str) -> httpx.Client:
        who = self.actors[actor]
        return self.stack.client(service, self.stack.token(who.sub, sorted(who.roles), who.ministry))

    def heads(self) -> tuple[int, int]:
        auditor = self.stack.token("auditor", ["auditor"])
        registry = self.stack.client("registry", auditor).get("/v1/log", params={"limit": 1}).json()["head_position"]
        risk = self.stack.client("risk", auditor).get(
            "/v1/log", params={"limit": 1}, headers={"Aigov-After": f"registry={registry}"}
        )
        assert risk.status_code == 200, risk.text  # the risk follower processed every registry event so far
        return registry, risk.json()["head_position"]

    def expect(self, command: str, allowed: bool, call: Any) -> httpx.Response:
        """Run ``call``; the model's verdict must be the services' and a refusal must leave both logs as they were."""
        before = self.heads()
        response: httpx.Response = call()
        if allowed:
            assert 200 <= response.status_code < 300, (
                f"{command}: the model allows it, the service said {response.text}"
            )
        else:
            assert 400 <= response.status_code < 500, (
                f"{command}: the model forbids it, the service said {response.text}"
            )
            assert self.heads() == before, f"{command}: refused, but an event was appended"
        return response

    def designate_call(self, actor: str, ministry: str, officer: str) -> httpx.Response:
        return self.client("registry", actor).put(
            f"/v1/ministries/{ministry}/caio", headers=ANY, json={"officer_id": officer, "name": "O", "reason": "r"}
        )

    # -- commands --------------------------------------------------------------------------------------------

    @rule(actor=st.sampled_from(["root", "admin+caio"]), officer=st.integers(0, 2))
    def designate(self, actor: str, officer: int) -> None:
        who, chosen = self.actors[actor], self.officers[officer]
        allowed = "admin" in who.roles and chosen != who.sub
        self.expect("designate", allowed, lambda: self.designate_call(actor, self.home, chosen))
        if allowed:
            self.model.designated[self.home] = chosen

    @precondition(lambda self: len(self.model.projects) < MAX_PROJECTS)
    @rule(
        actor=st.sampled_from(
            ["planner", "planner", "officer1", "officer2", "officer1 as planner+caio", "foreign planner"]
        )
    )
    def register(self, actor: str) -> None:
        allowed = self.model.planner_or_caio(self.actors[actor], self.home)
        response = self.expect(
            "register",
            allowed,
            lambda: self.client("registry", actor).post(
                "/v1/projects", json=project_body(self.home, users="staff_only")
            ),
        )
        if allowed:
            self.model.projects[response.json()["id"]] = Project(self.home)

    @precondition(lambda self: self.model.projects)
    @rule(data=st.data(), actor=st.sampled_from(["planner", "planner", "officer1", "officer2", "foreign planner"]))
    def amend_materially(self, data: st.DataObject, actor: str) -> None:
        project_id = data.draw(st.sampled_from(list(self.model.projects)))
        project = self.model.projects[project_id]
        other = "public" if project.users == "staff_only" else "staff_only"
        users = data.draw(st.one_of(st.just(other), st.sampled_from(["public", "staff_only"])), label="users")
        # an amendment that changes nothing is refused: the log records facts, not no-ops
        allowed = self.model.planner_or_caio(self.actors[actor], project.ministry) and users != project.users
        registry = self.client("registry", actor)
        self.expect(
            "amend",
            allowed,
            lambda: registry.patch(f"/v1/projects/{project_id}", headers=ANY, json={"users": users, "reason": "r"}),
        )
        if allowed:
            project.users = users
            self.model.supersede(project)

    @precondition(lambda self: self.model.projects)
    @rule(data=st.data(), actor=st.sampled_from(["planner", "planner", "officer1", "foreign planner"]))
    def answer_sheets(self, data: st.DataObject, actor: str) -> None:
        """Both check sheets answered in full: every item met, whatever applies (so no later fact reopens them)."""
        project_id = data.draw(st.sampled_from(list(self.model.projects)))
        project = self.model.projects[project_id]
        allowed = self.model.planner_or_caio(self.actors[actor], project.ministry)
        allowed = allowed and project.stage not in ("planning", "retired")
        self.expect(
            "answer the check sheets",
            allowed,
            lambda: self.client("registry", actor).put(
                f"/v1/projects/{project_id}/procurement", headers=ANY, json=FULL_SHEETS
            ),
        )
        if allowed:
            project.sheets_answered = True

    @precondition(lambda self: self.model.projects)
    @rule(data=st.data(), actor=st.sampled_from(["planner", "planner", "officer1", "foreign planner"]))
    def transition(self, data: st.DataObject, actor: str) -> None:
        project_id = data.draw(st.sampled_from(list(self.model.projects)))
        project = self.model.projects[project_id]
        onward = sorted(self.model.allowed_stages(project)) or list(STAGES)
        to = data.draw(st.one_of(st.sampled_from(onward), st.sampled_from(STAGES)), label="to")
        allowed = self.model.planner_or_caio(self.actors[actor], project.ministry)
        allowed = allowed and to in self.model.allowed_stages(project)
        gated = (project.stage, to) in (("procurement", "development"), ("development", "operation"))
        allowed = allowed and (not gated or self.model.gate_open(project, to))
        self.expect(
            f"transition {project.stage} → {to}" + (" (gate)" if gated else ""),
            allowed,
            lambda: self.client("registry", actor).post(
                f"/v1/projects/{project_id}/transitions", headers=ANY, json={"to": to, "reason": "r"}
            ),
        )
        if allowed:
            project.suspended_from = project.stage if to == "suspended" else None
            project.stage = to

    @precondition(lambda self: self.model.projects)
    @rule(
        data=st.data(),
        actor=st.sampled_from(["planner", "planner", "officer1 as planner+caio", "foreign planner"]),
        high=st.booleans(),
    )
    def assess(self, data: st.DataObject, actor: str, high: bool) -> None:
        project_id = data.draw(st.sampled_from(list(self.model.projects)))
        project = self.model.projects[project_id]
        allowed = self.model.planner(self.actors[actor], project.ministry) and project.open_assessment is None
        risk = self.client("risk", actor)
        opened = self.expect("open assessment", allowed, lambda: risk.post(f"/v1/projects/{project_id}/assessments"))
        if not allowed:
            return
        assessment_id = opened.json()["id"]
        self.model.assessments[assessment_id] = Assessment(project_id, {self.actors[actor].sub})
        project.open_assessment = assessment_id
        answers = HIGH_RISK if high else LOW_RISK
        self.expect(
            "answers", True, lambda: risk.put(f"/v1/assessments/{assessment_id}/answers", headers=ANY, json=answers)
        )
        self.expect("submit", True, lambda: risk.post(f"/v1/assessments/{assessment_id}/submit", headers=ANY))
        self.model.assessments[assessment_id].submitted = True

    @precondition(lambda self: self.model.assessments)
    @rule(data=st.data(), high=st.booleans())
    def classify(self, data: st.DataObject, high: bool) -> None:
        caios = ["officer1", "officer2", "officer1 as planner+caio", "foreign caio"]
        actor = self.pick(data, caios, self.designated_names("officer1", "officer2"))
        assessment_id = data.draw(st.sampled_from(list(self.model.assessments)))
        assessment = self.model.assessments[assessment_id]
        project = self.model.projects[assessment.project]
        who = self.actors[actor]
        allowed = (
            self.model.caio(who, project.ministry)
            and who.sub not in assessment.answered_by
            and project.open_assessment == assessment_id
            and assessment.submitted
        )
        body = {"classification": "high" if high else "not_high", "reasons": "r", "override_justification": "j"}
        self.expect(
            "classify",
            allowed,
            lambda: self.client("risk", actor).post(
                f"/v1/assessments/{assessment_id}/classification", headers=ANY, json=body
            ),
        )
        if allowed:
            self.model.supersede(project)
            assessment.classified, project.open_assessment = True, None
            project.classified, project.high = assessment_id, high

    @precondition(lambda self: self.model.assessments)
    @rule(data=st.data(), actor=st.sampled_from(["planner", "planner", "foreign planner"]))
    def draft(self, data: st.DataObject, actor: str) -> None:
        assessment_id = data.draw(st.sampled_from(list(self.model.assessments)))
        project_id = self.model.assessments[assessment_id].project
        project = self.model.projects[project_id]
        allowed = self.model.planner(self.actors[actor], project.ministry) and project.classified == assessment_id
        response = self.expect(
            "draft",
            allowed,
            lambda: self.client("risk", actor).post(
                f"/v1/projects/{project_id}/board-submissions", json=complete_submission(assessment_id)
            ),
        )
        if allowed:
            self.model.submissions[response.json()["id"]] = Submission(project_id, assessment_id)

    @precondition(lambda self: self.model.submissions)
    @rule(data=st.data())
    def submit_to_board(self, data: st.DataObject) -> None:
        actor = self.pick(data, ["officer1", "officer2"], self.designated_names("officer1", "officer2"))
        submission_id = data.draw(st.sampled_from(list(self.model.submissions)))
        submission = self.model.submissions[submission_id]
        project = self.model.projects[submission.project]
        with_board = project.with_board is not None and self.model.submissions[project.with_board].status in (
            "awaiting_advice",
            "awaiting_decision",
        )
        allowed = (
            self.model.caio(self.actors[actor], project.ministry)
            and submission.status == "draft"
            and self.model.current(submission)
            and project.high
            and not with_board
        )
        self.expect(
            "submit to the Board",
            allowed,
            lambda: self.client("risk", actor).post(
                f"/v1/projects/{submission.project}/board-submissions/{submission_id}/submit", headers=ANY
            ),
        )
        if allowed:
            submission.status, project.with_board, project.proceed = "awaiting_advice", submission_id, False

    @precondition(lambda self: self.model.submissions)
    @rule(data=st.data(), actor=st.sampled_from(["board", "board", "officer1 as board", "officer2 as caio+board"]))
    def advise(self, data: st.DataObject, actor: str) -> None:
        submission_id = data.draw(st.sampled_from(list(self.model.submissions)))
        submission = self.model.submissions[submission_id]
        project = self.model.projects[submission.project]
        who = self.actors[actor]
        own_ministry = bool(who.roles & {"planner", "caio"}) and who.ministry == project.ministry
        allowed = (
            not own_ministry
            and submission.status == "awaiting_advice"
            and self.model.current(submission)
            and project.with_board == submission_id
        )
        body = {"opinion": "no_concerns", "text": "t"}
        self.expect(
            "advise",
            allowed,
            lambda: self.client("risk", actor).post(
                f"/v1/board-submissions/{submission_id}/advice", headers=ANY, json=body
            ),
        )
        if allowed:
            submission.status, submission.advised_by = "awaiting_decision", who.sub

    @precondition(lambda self: self.model.submissions)
    @rule(data=st.data())
    def decide(self, data: st.DataObject) -> None:
        actor = self.pick(data, ["officer1", "officer2"], self.designated_names("officer1", "officer2"))
        submission_id = data.draw(st.sampled_from(list(self.model.submissions)))
        submission = self.model.submissions[submission_id]
        project = self.model.projects[submission.project]
        who = self.actors[actor]
        allowed = (
            self.model.caio(who, project.ministry)
            and who.sub != submission.advised_by
            and submission.status == "awaiting_decision"
            and self.model.current(submission)
            and project.with_board == submission_id
        )
        body = {"decision": "proceed", "reasons": "r", "condition_responses": []}
        self.expect(
            "decide",
            allowed,
            lambda: self.client("risk", actor).post(
                f"/v1/board-submissions/{submission_id}/decision", headers=ANY, json=body
            ),
        )
        if allowed:
            submission.status, project.proceed = "decided", True

    @precondition(lambda self: self.model.projects)
    @rule(data=st.data(), actor=st.sampled_from(["planner", "officer1", "foreign planner"]), severe=st.booleans())
    def incident(self, data: st.DataObject, actor: str, severe: bool) -> None:
        project_id = data.draw(st.sampled_from(list(self.model.projects)))
        project = self.model.projects[project_id]
        allowed = self.model.planner_or_caio(self.actors[actor], project.ministry)
        body = {
            "occurred_at": "2026-11-20T09:00:00+09:00",
            "what_happened": "w",
            "harm": "none",
            "severity": "high" if severe else "low",
            "immediate_actions": "a",
        }
        self.expect(
            "incident",
            allowed,
            lambda: self.client("risk", actor).post(f"/v1/projects/{project_id}/incidents", json=body),
        )
        if allowed and severe:
            self.model.supersede(project)

    def teardown(self) -> None:
        """The read models equal the model: the registry's stages, the risk service's classifications, and
        reporting's inventory once it has followed both logs to their heads."""
        registry_head, risk_head = self.heads()
        after = {"Aigov-After": f"registry={registry_head},risk={risk_head}"}
        auditor = self.stack.token("auditor", ["auditor"])
        inventory = {
            row["project_id"]: row
            for row in self.stack.client("reporting", auditor)
            .get("/v1/inventory", params={"ministry": self.home, "limit": 500}, headers=after)
            .json()["items"]
        }
        positions = {"registry_position": registry_head, "risk_position": risk_head}
        for project_id, project in self.model.projects.items():
            stage = self.stack.client("registry", auditor).get(f"/v1/projects/{project_id}").json()["stage"]
            risk = self.stack.client("risk", auditor).get(f"/v1/projects/{project_id}/risk").json()
            row = inventory[project_id]
            assert stage == project.stage == row["stage"], project_id
            classified = risk["classified_assessment_id"] if risk["status"].startswith("classified") else None
            assert classified == project.classified, (project_id, risk)
            replayed = (
                self.stack.client("reporting", auditor)
                .get(f"/v1/audit/projects/{project_id}/state", params=positions)
                .json()["project"]
            )  # rebuilt from both logs up to their heads: the live read models equal a replay
            assert (replayed["registry"]["stage"], replayed["risk"]["status"]) == (row["stage"], row["risk_status"])
            assert replayed["risk"]["status"] == risk["status"], (project_id, replayed["risk"], risk)


def test_the_services_allow_exactly_what_the_guideline_allows(stack: ServiceStack) -> None:
    Process.stack = stack
    run_state_machine_as_test(
        Process,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )
