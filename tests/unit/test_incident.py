"""Incident: record, report_onward (to the Digital Agency), close; and what a severe one does to the risk state."""

from __future__ import annotations

from uuid import UUID

import pytest

from services.risk.domain import Incident, RiskRuleViolated, RiskStatus
from tests.unit.memory import (
    CAIO,
    Government,
    InMemoryLog,
    assert_created_once,
    assert_replay_equals_live,
    assert_stale_copy_refused,
)

PROJECT = UUID("00000000-0000-4000-8000-000000000001")


@pytest.fixture
def log() -> InMemoryLog:
    return InMemoryLog("risk")


def recorded(severity: str = "medium") -> Incident:
    details = {"occurred_at": "2026-11-01T09:00:00+00:00", "severity": severity, "harm": "none", "what_happened": "x"}
    return Incident(project_id=PROJECT, ministry="MIC", details=details, meta=CAIO)


# -- record ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "severe"), [("low", False), ("medium", False), ("high", True), ("critical", True)]
)
def test_a_recorded_incident_knows_whether_it_is_severe(severity: str, severe: bool, log: InMemoryLog) -> None:
    incident = recorded(severity)
    assert incident.severe is severe
    assert (incident.reported_onward, incident.closure) == (None, None)
    assert_replay_equals_live(log, incident)


def test_an_incident_is_recorded_only_once(log: InMemoryLog) -> None:
    """The domain has no rule refusing an incident (an unknown project is the application's refusal); the log
    refuses recording the same incident twice."""
    assert_created_once(log, recorded)


def test_an_incident_of_unknown_severity_cannot_say_whether_it_is_severe() -> None:
    with pytest.raises(ValueError):
        _ = recorded("catastrophic").severe


# -- report_onward --------------------------------------------------------------------------------------------


def test_reporting_onward_records_the_digital_agencys_reference(log: InMemoryLog) -> None:
    incident = recorded()
    incident.report_onward("DA-2026-17", CAIO)
    assert incident.reported_onward == {"reference": "DA-2026-17", "by": "carol"}
    assert_replay_equals_live(log, incident)


def test_reporting_onward_twice_is_refused_and_keeps_the_first_reference() -> None:
    incident = recorded()
    incident.report_onward("DA-1", CAIO)
    incident.collect_events()
    with pytest.raises(RiskRuleViolated, match="already been reported"):
        incident.report_onward("DA-2", CAIO)
    assert incident.reported_onward["reference"] == "DA-1" and incident.collect_events() == []


# -- close ----------------------------------------------------------------------------------------------------


def test_closing_records_the_corrective_measures(log: InMemoryLog) -> None:
    incident = recorded()
    incident.close("retrained staff", CAIO)
    assert incident.closure == {"corrective_measures": "retrained staff", "by": "carol"}
    assert_replay_equals_live(log, incident)


def test_closing_twice_is_refused_and_keeps_the_first_closure() -> None:
    incident = recorded()
    incident.close("first", CAIO)
    with pytest.raises(RiskRuleViolated, match="already closed"):
        incident.close("second", CAIO)
    assert incident.closure["corrective_measures"] == "first"


def test_two_concurrent_closures_record_only_the_first(log: InMemoryLog) -> None:
    assert_stale_copy_refused(log, recorded(), lambda copy: copy.close("measures", CAIO))


# -- together with the project's risk state ----------------------------------------------------------------------


def test_a_severe_incident_makes_the_projects_classification_stale_in_the_same_save() -> None:
    world = Government()
    world.establish()
    project = world.register()
    world.evaluate(project, high=False)
    head = world.risk.head()
    incident = world.incident(project, "critical")
    assert world.risk.types(after=head) == ["IncidentRecorded", "ClassificationBecameStale"], "each fact once"
    risk = world.project_risk(project)
    assert risk.status is RiskStatus.stale and risk.stale_causes == [f"severe incident {incident}"]


def test_a_minor_incident_is_recorded_once_and_leaves_the_project_as_it_was() -> None:
    world = Government()
    world.establish()
    project = world.register()
    world.evaluate(project, high=False)
    head = world.risk.head()
    world.incident(project, "low")
    assert world.risk.types(after=head) == ["IncidentRecorded"]
    assert world.project_risk(project).status is RiskStatus.classified_not_high
