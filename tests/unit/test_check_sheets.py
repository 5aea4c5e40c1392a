"""Check sheets on the fast rung: the sheet schema, when an item applies, a sheet's status, the gates' sheet rule,
and the Project's answers, risk acceptances, reopenings and model-change notices (replayed from the in-memory log)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from services.registry import sheets as checksheets
from services.registry.contract import Applicability, ReopenCause, SheetKind, SheetState, Stage
from services.registry.domain import (
    CheckSheetRuleViolated,
    Project,
    StageRuleViolated,
    sheet_blockers,
    sheet_statuses,
)
from services.registry.sheets import CheckSheetInvalid, ProjectFacts
from tests.unit.memory import CAIO, DETAILS, PLANNER, InMemoryLog, assert_replay_equals_live

PROCUREMENT = checksheets.load_shipped("jp-procurement-2.0", 1)
CONTRACT = checksheets.load_shipped("jp-contract-2.0", 1)
SHEETS = {SheetKind.procurement: PROCUREMENT, SheetKind.contract: CONTRACT}
PLAIN = ProjectFacts(high_risk=False, personal_data=False, deployments=frozenset({"saas_api"}))
PERSONAL = ProjectFacts(high_risk=False, personal_data=True, deployments=frozenset({"saas_api"}))
HIGH_PERSONAL = ProjectFacts(high_risk=True, personal_data=True, deployments=frozenset({"saas_api"}))


@pytest.fixture
def log() -> InMemoryLog:
    return InMemoryLog("registry")


def answers(sheet: checksheets.CheckSheet, facts: ProjectFacts, **overrides: str) -> dict[str, Any]:
    """A sheet answered for exactly the items that apply under ``facts`` (met unless overridden)."""
    return {
        "kind": sheet.kind.value,
        "sheet_id": sheet.id,
        "version": sheet.version,
        "content_hash": checksheets.content_hash(sheet),
        "answers": [
            {"item": item, "answer": overrides.get(item, "met"), "note": "", "evidence": "", "reason": None}
            for item in checksheets.applicable_ids(sheet, facts)
        ],
    }


def in_procurement(log: InMemoryLog | None = None) -> Project:
    project = Project(ministry="MIC", details=DETAILS, meta=PLANNER)
    project.transition(Stage.procurement, PLANNER)
    if log is not None:
        log.save(project)
    return project


# -- the sheets as data ------------------------------------------------------------------------------------------


def test_the_shipped_sheets_validate_and_carry_english_and_japanese_for_every_item() -> None:
    assert (PROCUREMENT.kind, CONTRACT.kind) == (SheetKind.procurement, SheetKind.contract)
    assert len(PROCUREMENT.items) > 20
    for sheet in (PROCUREMENT, CONTRACT):
        assert all(item.title.en and item.title.ja != item.title.en for item in sheet.items)
    assert checksheets.reopened_by_model_change(CONTRACT) == ["C-MOD-01"]
    assert checksheets.content_hash(PROCUREMENT) == checksheets.content_hash(checksheets.parse(dict(
        checksheets.dump(PROCUREMENT))))  # fmt: skip


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda c: c["items"].append(copy.deepcopy(c["items"][0])), ""),
        (lambda c: c["items"][0].update(section="nowhere"), ""),
        (lambda c: c["items"][0].update(applies_when=["sometimes"]), "items.0.applies_when.0"),
        (lambda c: c["items"][0].update(reopened_by=["a_full_moon"]), "items.0"),
        (lambda c: c["items"][0]["title"].pop("ja"), "items.0.title.ja"),
        (lambda c: c.update(kind="budget"), "kind"),
    ],
)
def test_a_sheet_that_breaks_the_schema_is_refused_naming_the_path(change: Any, path: str) -> None:
    content = checksheets.dump(CONTRACT)
    change(content)
    with pytest.raises(CheckSheetInvalid) as refused:
        checksheets.parse(content)
    assert path in [problem.path for problem in refused.value.problems]


# -- applicability and status ---------------------------------------------------------------------------------


def test_items_apply_by_classification_personal_data_and_deployment() -> None:
    plain = set(checksheets.applicable_ids(PROCUREMENT, PLAIN))
    personal = set(checksheets.applicable_ids(PROCUREMENT, PERSONAL))
    high = set(checksheets.applicable_ids(PROCUREMENT, HIGH_PERSONAL))
    assert personal - plain == {"P-PD-01", "P-PD-02", "P-PD-03"}
    assert high - personal == {"P-GOV-03", "P-DEV-03", "P-MQ-04", "P-OUT-02", "P-PD-04"}
    on_premises = ProjectFacts(high_risk=False, personal_data=True, deployments=frozenset({"on_premises"}))
    applicable = set(checksheets.applicable_ids(PROCUREMENT, on_premises))
    assert "P-DEV-05" in applicable and "P-SEC-02" not in applicable and "P-PD-03" not in applicable  # all must hold
    tuned = ProjectFacts(high_risk=False, personal_data=False, deployments=frozenset({"fine_tuned"}))
    assert "C-DAT-03" in checksheets.applicable_ids(CONTRACT, tuned)
    assert ProjectFacts.of(DETAILS, "high").holds(Applicability.high_risk)
    assert not ProjectFacts.of(DETAILS, "not_high").holds(Applicability.high_risk)


def test_a_sheet_is_complete_when_every_applicable_item_is_answered_and_lists_unaccepted_not_met() -> None:
    state = {"procurement": {**answers(PROCUREMENT, PERSONAL, **{"P-SEC-03": "not_met"}), "accepted": {}}}
    state["procurement"]["answers"] = {a["item"]: a for a in state["procurement"]["answers"]}
    statuses = sheet_statuses(state, SHEETS, PERSONAL)
    assert (statuses[SheetKind.procurement].state, statuses[SheetKind.procurement].missing) == (SheetState.complete, [])
    assert statuses[SheetKind.procurement].unaccepted == ["P-SEC-03"]
    assert statuses[SheetKind.contract].state == SheetState.not_answered
    assert statuses[SheetKind.contract].missing == checksheets.applicable_ids(CONTRACT, PERSONAL)
    high = sheet_statuses(state, SHEETS, HIGH_PERSONAL)[SheetKind.procurement]
    assert (high.state, high.missing) == (SheetState.incomplete, ["P-GOV-03", "P-DEV-03", "P-MQ-04", "P-OUT-02",
                                                                  "P-PD-04"])  # fmt: skip


def test_answer_problems_name_unknown_and_repeated_items_and_not_applicable_without_a_reason() -> None:
    given = [
        {"item": "P-GOV-01", "answer": "met"},
        {"item": "P-GOV-01", "answer": "met"},
        {"item": "P-NOPE", "answer": "met"},
        {"item": "P-SEC-02", "answer": "not_applicable", "reason": "  "},
        {"item": "P-SEC-03", "answer": "not_applicable", "reason": "no attack surface: no user input"},
    ]
    problems = checksheets.answer_problems(PROCUREMENT, given, "procurement_sheet")
    assert [(p.path, p.kind) for p in problems] == [
        ("procurement_sheet.answers[1].item", "duplicate_item"),
        ("procurement_sheet.answers[2].item", "unknown_item"),
        ("procurement_sheet.answers[3].reason", "reason_required"),
    ]


# -- the gates' sheet rule -----------------------------------------------------------------------------------------


def test_development_needs_the_procurement_sheet_and_operation_both_with_every_not_met_accepted() -> None:
    project = in_procurement()
    nothing = project.sheet_statuses(SHEETS, PLAIN)
    development = sheet_blockers(Stage.development, nothing, SHEETS)
    assert len(development) == len(checksheets.applicable_ids(PROCUREMENT, PLAIN))
    first = PROCUREMENT.items[0].title.en
    assert development[0] == f"procurement sheet jp-procurement-2.0 v1, item P-GOV-01: {first} (not answered)"
    project.answer_sheets("V", "C-1", [answers(PROCUREMENT, PLAIN, **{"P-SEC-03": "not_met"})], SHEETS, PLAIN, PLANNER)
    answered = project.sheet_statuses(SHEETS, PLAIN)
    assert sheet_blockers(Stage.development, answered, SHEETS) == []  # not_met waits for operation
    operation = sheet_blockers(Stage.operation, answered, SHEETS)
    assert any("P-SEC-03" in entry and "risk acceptance" in entry for entry in operation)
    assert [entry.split(",")[1].split(":")[0].strip() for entry in operation if entry.startswith("contract")] == [
        f"item {item}" for item in checksheets.applicable_ids(CONTRACT, PLAIN)
    ]
    assert sheet_blockers(Stage.retired, nothing, SHEETS) == []
    assert sheet_blockers(Stage.development, nothing, {}) == [
        "answers to a procurement check sheet (none is published)"
    ]


# -- the Project aggregate -------------------------------------------------------------------------------------------


def test_answers_acceptance_reopening_and_a_model_change_replay_to_the_same_state(log: InMemoryLog) -> None:
    project = in_procurement(log)
    sheets = [answers(PROCUREMENT, PLAIN), answers(CONTRACT, PLAIN, **{"C-LOG-01": "not_met"})]
    project.answer_sheets("Vendor KK", "C-1", sheets, SHEETS, PLAIN, PLANNER)
    assert project.procurement is not None and project.procurement["vendor"] == "Vendor KK"
    assert [c["item"] for c in project.procurement["contract_checks"]] == checksheets.applicable_ids(CONTRACT, PLAIN)
    project.accept_item_risk(SheetKind.contract, "C-LOG-01", SHEETS, PLAIN, CAIO)
    assert project.sheet_statuses(SHEETS, PLAIN)[SheetKind.contract].unaccepted == []
    with pytest.raises(CheckSheetRuleViolated, match="already accepted"):
        project.accept_item_risk(SheetKind.contract, "C-LOG-01", SHEETS, PLAIN, CAIO)
    with pytest.raises(CheckSheetRuleViolated, match="answered met"):
        project.accept_item_risk(SheetKind.contract, "C-DAT-01", SHEETS, PLAIN, CAIO)

    project.transition(Stage.development, PLANNER)
    project.notice_model_change(
        {"provider": "P", "model": "m", "model_version": "2", "effective_date": "2027-01-01", "changes": "new"},
        SHEETS,
        PLAIN,
        PLANNER,
    )
    contract = project.sheet_statuses(SHEETS, PLAIN)[SheetKind.contract]
    assert (contract.state, contract.missing, contract.unaccepted) == (SheetState.incomplete, ["C-MOD-01"], [])
    log.save(project)
    kinds = [kind for kind in log.types() if kind in ("CheckSheetsAnswered", "CheckItemRiskAccepted",
             "ModelChangeNoticed", "CheckSheetReopened")]  # fmt: skip
    assert kinds == ["CheckSheetsAnswered", "CheckItemRiskAccepted", "ModelChangeNoticed", "CheckSheetReopened"]
    reopened = log.envelopes()[-1]["data"]
    assert (reopened["items"], reopened["cause"]) == (["C-MOD-01"], "model_change")
    assert {s["kind"]: s["state"] for s in reopened["status"]} == {"procurement": "complete", "contract": "incomplete"}
    assert_replay_equals_live(log, project)


def test_an_acceptance_carries_over_only_to_the_same_answer(log: InMemoryLog) -> None:
    project = in_procurement(log)
    not_met = answers(CONTRACT, PLAIN, **{"C-LOG-01": "not_met"})
    project.answer_sheets("V", "C-1", [answers(PROCUREMENT, PLAIN), not_met], SHEETS, PLAIN, PLANNER)
    project.accept_item_risk(SheetKind.contract, "C-LOG-01", SHEETS, PLAIN, CAIO)
    project.answer_sheets("V", "C-2", [answers(PROCUREMENT, PLAIN), not_met], SHEETS, PLAIN, PLANNER)
    assert project.sheet_statuses(SHEETS, PLAIN)[SheetKind.contract].unaccepted == []
    changed = copy.deepcopy(not_met)
    next(a for a in changed["answers"] if a["item"] == "C-LOG-01")["note"] = "now 7 days only"
    project.answer_sheets("V", "C-3", [answers(PROCUREMENT, PLAIN), changed], SHEETS, PLAIN, PLANNER)
    assert project.sheet_statuses(SHEETS, PLAIN)[SheetKind.contract].unaccepted == ["C-LOG-01"]
    project.answer_sheets("V", "C-4", [answers(PROCUREMENT, PLAIN)], SHEETS, PLAIN, PLANNER)  # PUT replaces
    assert project.sheet_statuses(SHEETS, PLAIN)[SheetKind.contract].state == SheetState.not_answered
    log.save(project)
    assert_replay_equals_live(log, project)


def test_new_facts_reopen_only_answered_sheets_and_only_for_items_not_answered() -> None:
    project = in_procurement()
    project.answer_sheets("V", "C-1", [answers(PROCUREMENT, PLAIN)], SHEETS, PLAIN, PLANNER)
    project.collect_events()
    project.reopen_newly_applicable(PLAIN, HIGH_PERSONAL, ReopenCause.classification, SHEETS, PLANNER)
    events = project.collect_events()
    assert [(type(e).__name__, e.kind, e.items) for e in events] == [  # type: ignore[attr-defined]
        ("CheckSheetReopened", "procurement",
         ["P-GOV-03", "P-DEV-03", "P-MQ-04", "P-OUT-02", "P-PD-01", "P-PD-02", "P-PD-03", "P-PD-04"]),
    ]  # fmt: skip
    project.reopen_newly_applicable(HIGH_PERSONAL, PLAIN, ReopenCause.classification, SHEETS, PLANNER)
    fewer = project.collect_events()  # fewer items apply: nothing to reopen, the status recorded as it now is
    assert [type(e).__name__ for e in fewer] == ["CheckSheetStatusChanged"]
    status = {s["kind"]: (s["state"], s["missing"]) for s in fewer[0].status}  # type: ignore[attr-defined]
    assert status == {"procurement": ("complete", []), "contract": ("not_answered", [])}
    project.reopen_newly_applicable(PLAIN, PLAIN, ReopenCause.amendment, SHEETS, PLANNER)
    assert project.collect_events() == []  # nothing changed: nothing recorded


def test_a_model_change_is_refused_before_procurement_and_without_contract_answers_reopens_nothing() -> None:
    notice = {"provider": "P", "model": "m", "model_version": "2", "effective_date": "2027-01-01", "changes": "new"}
    planning = Project(ministry="MIC", details=DETAILS, meta=PLANNER)
    with pytest.raises(StageRuleViolated):
        planning.notice_model_change(notice, SHEETS, PLAIN, PLANNER)
    project = in_procurement()
    project.collect_events()
    project.notice_model_change(notice, SHEETS, PLAIN, PLANNER)
    assert [type(e).__name__ for e in project.collect_events()] == ["ModelChangeNoticed"]
