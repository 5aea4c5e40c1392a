"""The gate before operation (operation_blockers): what the risk process must settle before development → operation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.registry.domain import OperationBlocked, operation_blockers

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
NOT_DECIDED = "the CAIO's risk classification (the risk evaluation is not yet decided)"
STALE = "a re-evaluation: the risk classification is stale"
EXPIRED = "a re-evaluation: the risk classification has expired"
ADVICE = "the Advisory Board's advice on a submission"
DECISION = "the CAIO's decision to proceed (proceed or proceed_with_conditions)"

OPEN_HIGH: dict[str, Any] = {
    "classification": "high",
    "classification_current": True,
    "classified_registry_position": 10,
    "last_material_position": 5,
    "expires_at": NOW + timedelta(days=1),
    "board_advice_recorded": True,
    "decision": "proceed",
}


def test_a_decided_current_high_risk_project_with_advice_and_a_proceed_decision_may_enter_operation() -> None:
    assert operation_blockers(OPEN_HIGH, NOW) == []
    assert operation_blockers({**OPEN_HIGH, "decision": "proceed_with_conditions"}, NOW) == []


def test_a_current_not_high_classification_is_enough_without_the_board() -> None:
    gate = {**OPEN_HIGH, "classification": "not_high", "board_advice_recorded": False, "decision": None}
    assert operation_blockers(gate, NOW) == []


@pytest.mark.parametrize("gate", [None, {**OPEN_HIGH, "classification": None}])
def test_without_a_classification_only_the_classification_is_missing(gate: dict[str, Any] | None) -> None:
    assert operation_blockers(gate, NOW) == [NOT_DECIDED]


def test_a_classification_marked_not_current_is_stale() -> None:
    assert operation_blockers({**OPEN_HIGH, "classification_current": False}, NOW) == [STALE]


@pytest.mark.parametrize(
    ("classified_at", "material_at", "blockers"),
    [(10, 10, []), (10, 11, [STALE]), (None, 1, [STALE]), (0, None, []), (None, None, [])],
)
def test_a_classification_must_reflect_the_last_material_amendment(
    classified_at: int | None, material_at: int | None, blockers: list[str]
) -> None:
    """The registry position a classification was made in knowledge of must be at or after the project's last
    material amendment (the watermark the registry writes with the amendment)."""
    gate = {**OPEN_HIGH, "classified_registry_position": classified_at, "last_material_position": material_at}
    assert operation_blockers(gate, NOW) == blockers


@pytest.mark.parametrize(
    ("expires_in", "blockers"),
    [(timedelta(seconds=1), []), (timedelta(0), [EXPIRED]), (-timedelta(days=1), [EXPIRED])],
)
def test_a_classification_expires_at_its_expiry_instant(expires_in: timedelta, blockers: list[str]) -> None:
    assert operation_blockers({**OPEN_HIGH, "expires_at": NOW + expires_in}, NOW) == blockers


def test_a_classification_without_an_expiry_never_expires() -> None:
    assert operation_blockers({**OPEN_HIGH, "expires_at": None}, NOW + timedelta(days=10_000)) == []


def test_a_stale_and_expired_classification_is_reported_once_as_stale() -> None:
    gate = {**OPEN_HIGH, "classification_current": False, "expires_at": NOW - timedelta(days=1)}
    assert operation_blockers(gate, NOW) == [STALE]


@pytest.mark.parametrize("decision", [None, "revise_and_resubmit", "discontinue"])
def test_a_high_risk_project_needs_the_board_advice_and_a_decision_to_proceed(decision: str | None) -> None:
    assert operation_blockers({**OPEN_HIGH, "decision": decision}, NOW) == [DECISION]
    assert operation_blockers({**OPEN_HIGH, "board_advice_recorded": False, "decision": decision}, NOW) == [
        ADVICE,
        DECISION,
    ]


def test_every_missing_step_is_named_at_once_in_order() -> None:
    gate = {**OPEN_HIGH, "classification_current": False, "board_advice_recorded": False, "decision": None}
    assert operation_blockers(gate, NOW) == [STALE, ADVICE, DECISION]


def test_the_refusal_carries_and_states_every_missing_step() -> None:
    blocked = OperationBlocked([STALE, ADVICE])
    assert blocked.missing == [STALE, ADVICE]
    assert str(blocked) == f"The project cannot enter operation yet: {STALE}; {ADVICE}."


GATES = st.fixed_dictionaries(
    {
        "classification": st.sampled_from([None, "high", "not_high"]),
        "classification_current": st.booleans(),
        "classified_registry_position": st.one_of(st.none(), st.integers(0, 5)),
        "last_material_position": st.one_of(st.none(), st.integers(0, 5)),
        "expires_at": st.one_of(st.none(), st.integers(-3, 3).map(lambda days: NOW + timedelta(days=days))),
        "board_advice_recorded": st.booleans(),
        "decision": st.sampled_from([None, "proceed", "proceed_with_conditions", "revise_and_resubmit", "discontinue"]),
    }
)


@given(GATES)
def test_the_gate_opens_exactly_when_the_guideline_says_operation_may_start(gate: dict[str, Any]) -> None:
    """GUIDELINE.md: operation may start only when the classification is decided (and current, not expired)
    and, for a high-risk project, the Board's advice is received and the CAIO's decision is to proceed."""
    material, classified = gate["last_material_position"], gate["classified_registry_position"] or 0
    current = gate["classification_current"] and (material is None or classified >= material)
    unexpired = gate["expires_at"] is None or gate["expires_at"] > NOW
    board_done = gate["board_advice_recorded"] and gate["decision"] in ("proceed", "proceed_with_conditions")
    may_start = (
        gate["classification"] is not None
        and current
        and unexpired
        and (gate["classification"] != "high" or board_done)
    )
    blockers = operation_blockers(gate, NOW)
    assert (blockers == []) == may_start
    assert len(set(blockers)) == len(blockers)
    assert not (STALE in blockers and EXPIRED in blockers)
    if gate["classification"] != "high":
        assert ADVICE not in blockers and DECISION not in blockers
