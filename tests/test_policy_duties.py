"""Separation of duties as lines of the policy table (issue 13, acceptance 4).

Each line has a case it must refuse and a neighbouring case it must allow; the last test removes each line from
the table in turn and shows its case is then allowed, so removing any one line makes
``test_each_line_refuses_its_case`` fail. The same lines are exercised over HTTP on both databases in
tests/test_authority.py (finding 4)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from shared import policy
from shared.auth import Principal
from shared.policy import Duty, Subject
from shared.problems import Forbidden


def principal(sub: str, *roles: str, ministry: str | None = None) -> Principal:
    return Principal(sub, sub.title(), frozenset(roles), ministry)


@dataclass(frozen=True)
class Case:
    operation: str
    duty: Duty
    refused: tuple[Principal, Subject]
    allowed: tuple[Principal, Subject]


CASES = [
    Case(
        "designate_caio",
        Duty.not_self_designation,
        refused=(principal("ada", "admin", "caio", ministry="MIC"), Subject(ministry="MIC", designee="ada")),
        allowed=(principal("ada", "admin"), Subject(ministry="MIC", designee="chie")),
    ),
    Case(
        "record_board_advice",
        Duty.board_outside_own_ministry,
        refused=(principal("ken", "caio", "board_member", ministry="MIC"), Subject(ministry="MIC")),
        allowed=(principal("ken", "caio", "board_member", ministry="MHLW"), Subject(ministry="MIC")),
    ),
    Case(
        "record_caio_decision",
        Duty.adviser_does_not_decide,
        refused=(principal("chie", "caio", ministry="MIC"), Subject(ministry="MIC", advised_by="chie")),
        allowed=(principal("chie", "caio", ministry="MIC"), Subject(ministry="MIC", advised_by="bob")),
    ),
    Case(
        "classify_assessment",
        Duty.answerer_does_not_classify,
        refused=(
            principal("chie", "planner", "caio", ministry="MIC"),
            Subject(ministry="MIC", answered_by=frozenset({"alice", "chie"})),
        ),
        allowed=(principal("chie", "caio", ministry="MIC"), Subject(ministry="MIC", answered_by=frozenset({"alice"}))),
    ),
]


def test_the_table_holds_exactly_these_separation_of_duties_lines() -> None:
    lines = {(operation, duty) for operation, rule in policy.POLICY.items() for duty in rule.duties}
    assert lines == {(case.operation, case.duty) for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.duty.name)
def test_each_line_refuses_its_case(case: Case) -> None:
    who, subject = case.refused
    with pytest.raises(Forbidden) as refusal:
        policy.keep_duties_apart(policy.rule_for(case.operation), who, subject)
    assert refusal.value.extra["duty"] == case.duty.name and case.duty.value in refusal.value.detail
    policy.keep_duties_apart(policy.rule_for(case.operation), *case.allowed)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.duty.name)
def test_removing_the_line_lets_its_case_through(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    rule = policy.rule_for(case.operation)
    without = dataclasses.replace(rule, duties=tuple(duty for duty in rule.duties if duty is not case.duty))
    monkeypatch.setitem(policy.POLICY, case.operation, without)
    policy.keep_duties_apart(policy.rule_for(case.operation), *case.refused)  # no longer refused: the test above fails
