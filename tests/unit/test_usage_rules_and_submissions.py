"""Issue 16, items 7 and 8, on in-memory persistence: the ministry's usage rules (who issues them, what a version
needs, which version is in force when) and the periodic report's submission (who submits it, what it records),
the status the secretariat sees, the report's content hash, and how the printed page words a stale classification.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from services.registry.contract import JAPAN, in_force, takes_effect_at, text_hash
from services.registry.domain import Ministry, NotTheDesignatedOfficer, usage_rules_history
from services.reporting import history, periodic
from services.reporting.projection import Projection
from shared.errors import InvalidInput, InvalidInputs
from tests.unit.memory import ADMIN, InMemoryLog, assert_replay_equals_live, meta

CAIO = meta("carol", "caio", "MIC", "rules of the ministry")
APRIL = date(2026, 4, 1)


@pytest.fixture
def log() -> InMemoryLog:
    return InMemoryLog("registry")


def mic(caio: str | None = "carol") -> Ministry:
    ministry = Ministry(code="MIC", name="Ministry of Internal Affairs", meta=ADMIN)
    if caio is not None:
        ministry.designate_caio(caio, caio.title(), ADMIN)
    return ministry


def fields(problems: InvalidInputs) -> list[str]:
    return [problem.field for problem in problems.problems]


# -- issuing usage rules -------------------------------------------------------------------------------------


def test_the_designated_caio_issues_numbered_versions_with_their_content_hash(log: InMemoryLog) -> None:
    ministry = mic()
    first = ministry.issue_usage_rules("Rules", "Staff check every output.", None, None, APRIL, CAIO)
    document = "sha256:" + "ab" * 32
    second = ministry.issue_usage_rules("Rules v2", None, "https://example.go.jp/v2.pdf", document, APRIL, CAIO)
    assert (first.version, second.version) == (1, 2)
    assert first.content_hash == text_hash("Staff check every output.") != text_hash("Staff check some outputs.")
    assert second.content_hash == document and second.text is None
    assert (first.issued_by, first.reason) == ("carol", "rules of the ministry")
    log.save(ministry)
    assert_replay_equals_live(log, ministry)
    history_ = usage_rules_history(list(log.events.get(ministry.id)))
    assert [(version.version, version.title) for version in history_] == [(1, "Rules"), (2, "Rules v2")]


@pytest.mark.parametrize("caio", [None, "dan"])
def test_only_the_caio_designated_at_that_moment_issues_rules(caio: str | None) -> None:
    ministry = mic(caio)
    with pytest.raises(NotTheDesignatedOfficer):
        ministry.issue_usage_rules("Rules", "text", None, None, APRIL, CAIO)
    assert ministry.usage_rules_issued == 0


def test_a_replaced_caio_can_no_longer_issue_rules() -> None:
    ministry = mic()
    ministry.designate_caio("dan", "Dan", ADMIN)
    with pytest.raises(NotTheDesignatedOfficer):
        ministry.issue_usage_rules("Rules", "text", None, None, APRIL, CAIO)


def test_rules_issued_on_a_copy_loaded_before_a_designation_are_refused_when_saved(log: InMemoryLog) -> None:
    """The designation and the rules are events of one aggregate: a designation saved meanwhile makes the save of
    rules decided on the older copy conflict, so a replaced CAIO's rules never enter the log."""
    log.save(mic())
    stale, fresh = log.repository.get(Ministry.create_id("MIC")), log.repository.get(Ministry.create_id("MIC"))
    fresh.designate_caio("dan", "Dan", ADMIN)
    log.save(fresh)
    stale.issue_usage_rules("Rules", "text", None, None, APRIL, CAIO)  # the copy still names carol
    with pytest.raises(IntegrityError):
        log.save(stale)
    assert "UsageRulesIssued" not in [type(e).__name__ for e in log.events.get(Ministry.create_id("MIC"))]


@pytest.mark.parametrize(
    ("text", "reference", "reference_hash", "expected"),
    [
        ("text", "https://example.go.jp/r.pdf", "sha256:" + "0" * 64, ["body.text"]),
        (None, None, None, ["body.text"]),
        (None, "https://example.go.jp/r.pdf", None, ["body.reference_hash"]),
        ("text", None, "sha256:" + "0" * 64, ["body.reference_hash"]),
    ],
)
def test_a_version_is_its_text_or_a_reference_with_its_hash(
    text: str | None, reference: str | None, reference_hash: str | None, expected: list[str]
) -> None:
    ministry = mic()
    with pytest.raises(InvalidInputs) as refused:
        ministry.issue_usage_rules("Rules", text, reference, reference_hash, APRIL, CAIO)
    assert fields(refused.value) == expected
    assert ministry.usage_rules_issued == 0


def test_a_new_version_takes_effect_no_earlier_than_the_latest() -> None:
    ministry = mic()
    ministry.issue_usage_rules("Rules", "v1", None, None, APRIL, CAIO)
    with pytest.raises(InvalidInputs) as refused:
        ministry.issue_usage_rules("Backdated", "v2", None, None, APRIL - timedelta(days=1), CAIO)
    assert fields(refused.value) == ["body.effective_from"]
    assert ministry.issue_usage_rules("Same day", "v2", None, None, APRIL, CAIO).version == 2


# -- which version is in force ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    version: int
    effective_from: date


def test_a_version_takes_effect_at_the_start_of_its_date_in_japan() -> None:
    assert takes_effect_at(APRIL) == datetime(2026, 4, 1, tzinfo=JAPAN) == datetime(2026, 3, 31, 15, tzinfo=UTC)


def test_the_second_version_supersedes_the_first_from_its_effective_date_not_before() -> None:
    versions = [Version(1, APRIL), Version(2, date(2026, 10, 1))]
    start_of_october = takes_effect_at(date(2026, 10, 1))
    assert in_force(versions, takes_effect_at(APRIL) - timedelta(microseconds=1)) is None
    assert in_force(versions, takes_effect_at(APRIL)) == versions[0]
    assert in_force(versions, start_of_october - timedelta(microseconds=1)) == versions[0]
    assert in_force(versions, start_of_october) == versions[1]
    assert in_force(versions, datetime(2030, 1, 1, tzinfo=UTC)) == versions[1]


def test_of_two_versions_effective_the_same_day_the_later_is_in_force() -> None:
    versions = [Version(1, APRIL), Version(2, APRIL)]
    assert in_force(versions, takes_effect_at(APRIL)) == versions[1]
    assert in_force([], takes_effect_at(APRIL)) is None


# -- submitting the periodic report ----------------------------------------------------------------------------


def test_the_designated_caio_submits_the_report_by_its_hash_positions_and_time(log: InMemoryLog) -> None:
    ministry = mic()
    as_of = datetime(2026, 12, 28, 9, tzinfo=JAPAN)
    submitted = ministry.submit_periodic_report("2026H2", "sha256:" + "1" * 64, 214, 389, as_of, CAIO)
    assert (submitted.period, submitted.registry_position, submitted.risk_position) == ("2026H2", 214, 389)
    assert (submitted.as_of, submitted.submitted_by, submitted.reason) == (as_of, "carol", "rules of the ministry")
    log.save(ministry)
    [event] = [e for e in log.events.get(ministry.id) if type(e).__name__ == "PeriodicReportSubmitted"]
    assert (event.content_hash, event.as_of) == ("sha256:" + "1" * 64, as_of.isoformat())


def test_nobody_but_the_designated_caio_submits_and_a_malformed_period_is_refused() -> None:
    as_of = datetime(2026, 12, 28, tzinfo=UTC)
    with pytest.raises(NotTheDesignatedOfficer):
        mic("dan").submit_periodic_report("2026H2", "sha256:" + "1" * 64, 1, 1, as_of, CAIO)
    with pytest.raises(InvalidInput) as refused:
        mic().submit_periodic_report("2026Q4", "sha256:" + "1" * 64, 1, 1, as_of, CAIO)
    assert refused.value.field == "body.period"


# -- the secretariat's view and the report's content ----------------------------------------------------------


def test_a_submission_is_out_of_date_once_a_project_changed_after_its_positions() -> None:
    submission = {"positions": {"registry": 10, "risk": 20}}
    assert periodic.submission_status(None, None) == periodic.SubmissionStatus.not_submitted
    assert periodic.submission_status(submission, None) == periodic.SubmissionStatus.submitted
    change = {"since": "2026-12-29T00:00:00+00:00", "service": "registry", "position": 11}
    assert periodic.submission_status(submission, change) == periodic.SubmissionStatus.out_of_date


def report() -> dict[str, Any]:
    state = Projection(positions={"registry": 3, "risk": 4})
    state.ministries["MIC"] = {"ministry": "MIC", "ministry_id": "x", "name": "MIC", "caio": None}
    return periodic.periodic_report(state, "MIC", "2026H2", "2026-12-28T09:00:00+09:00", None)


def test_the_content_hash_is_of_the_canonical_bytes_and_changes_with_any_content() -> None:
    first, again = periodic.with_content_hash(report()), periodic.with_content_hash(report())
    assert first["content_hash"] == again["content_hash"] and first["content_hash"].startswith("sha256:")
    assert periodic.with_content_hash(first) == first  # the hash never covers itself
    other = periodic.with_content_hash({**report(), "as_of": "2026-12-28T10:00:00+09:00"})
    assert other["content_hash"] != first["content_hash"]
    assert periodic.canonical({"b": 1, "a": [1, 2]}) == b'{"a":[1,2],"b":1}'


@pytest.mark.parametrize(
    ("classification", "status", "stale", "group", "words"),
    [
        ("high", "stale", True, "classified_high", "high risk (stale: re-evaluation due)"),
        ("high", "classified_high", False, "classified_high", "high risk"),
        ("not_high", "stale", True, "classified_not_high", "not high risk (stale: re-evaluation due)"),
        (None, "in_progress", False, "other", "in progress"),
    ],
)
def test_a_stale_classification_is_still_shown_and_counted_and_marked_stale(
    classification: str | None, status: str, stale: bool, group: str, words: str
) -> None:
    system = {"classification": classification, "risk_status": status, "classification_stale": stale}
    assert periodic.risk_group(system) == group
    assert periodic.risk_words(system) == words


def test_the_fold_keeps_each_version_of_the_usage_rules_and_each_submission_with_its_position() -> None:
    state = Projection()
    state.ministry_codes["m-1"] = "MIC"
    batch = history.Batch(state)
    rules = {
        "type": "UsageRulesIssued",
        "service": "registry",
        "position": 7,
        "aggregate_id": "m-1",
        "occurred_at": "2026-03-25T01:15:07+00:00",
        "meta": {"actor_id": "carol", "actor_name": "Carol", "reason": "issued"},
        "data": {"version": 1, "title": "Rules", "text": "t", "reference": None, "content_hash": text_hash("t"),
                 "effective_from": "2026-04-01"},
    }  # fmt: skip
    history._ministry_record(batch, "MIC", rules)
    [row] = batch.usage_rules
    assert (row["ministry"], row["version"], row["position"]) == ("MIC", 1, 7)
    assert row["takes_effect"] == history.micros(takes_effect_at(APRIL))
    submitted = {
        **rules,
        "type": "PeriodicReportSubmitted",
        "position": 9,
        "data": {"period": "2026H2", "content_hash": "sha256:" + "2" * 64, "registry_position": 5,
                 "risk_position": 6, "as_of": "2026-12-28T09:00:00+09:00"},
    }  # fmt: skip
    history._ministry_record(batch, "MIC", submitted)
    [row] = batch.submissions
    assert (row["period"], row["ministry"], row["position"]) == ("2026H2", "MIC", 9)
    assert '"positions":{"registry":5,"risk":6}' in row["doc"] and '"submitted_by":"carol"' in row["doc"]
