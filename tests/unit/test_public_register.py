"""The public register's rules: what a publication records (withheld fields by their reason, never the value),
which publications are refused (422 naming each field), when a record is out of date, and the fold of
``ProjectPublished`` into the project document and the public register's shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.registry.contract import (
    MANDATORY_PUBLIC_FIELDS,
    PUBLIC_FIELDS,
    Withholding,
    WithholdingReason,
    publication_out_of_date,
)
from services.registry.domain import GateState, Project, Stage, public_record
from services.reporting import public
from services.reporting.projection import Projection
from services.reporting.reports import REPUBLICATION, pending_for
from shared.errors import InvalidInputs
from tests.unit.memory import CAIO, DETAILS, PLANNER, InMemoryLog

SECRET_VENDOR = "Very Secret Vendor KK"
GATE = GateState("high", True, 5, 3, None, True, "proceed")


def project() -> Project:
    made = Project(ministry="MIC", details={**DETAILS, "human_review": "sampled"}, meta=PLANNER)
    made.transition(Stage.procurement, PLANNER)
    made.record_procurement(
        {"vendor": SECRET_VENDOR, "contract_reference": "C-1", "procurement_checks": [], "contract_checks": []},
        PLANNER,
    )
    return made


def withhold(field: str, reason: WithholdingReason = WithholdingReason.commercial_confidentiality, text: Any = None):
    return Withholding(field=field, reason=reason, text=text)


def published_event(made: Project) -> Any:
    return [event for event in made.collect_events() if type(event).__name__ == "ProjectPublished"][-1]


def test_a_publication_records_the_record_with_each_withheld_field_replaced_by_its_reason() -> None:
    made = project()
    made.publish(public_record(made, GATE, "Chie Sato"), [withhold("vendor")], CAIO)
    event = published_event(made)
    assert event.publication == 1 and made.publications == 1
    assert event.record["vendor"] == {"withheld": True, "reason": "commercial_confidentiality", "text": None}
    assert SECRET_VENDOR not in json.dumps(event.record) + json.dumps(event.withheld)
    assert event.record["name"] == DETAILS["title"] and event.record["risk_classification"] == "high"
    assert set(event.record) == set(PUBLIC_FIELDS)


def test_the_record_names_the_caio_by_name_only() -> None:
    record = public_record(project(), GATE, "Chie Sato")
    assert record["chief_ai_officer"] == "Chie Sato" and "carol" not in json.dumps(record)


def test_publications_are_numbered_and_replay_from_the_log() -> None:
    log, made = InMemoryLog("registry"), project()
    made.publish(public_record(made, GATE, None), [], CAIO)
    log.save(made)
    again = log.repository.get(made.id)
    again.publish(public_record(again, GATE, None), [], CAIO)
    assert published_event(again).publication == 2


@pytest.mark.parametrize(
    ("withheld", "field"),
    [
        ([withhold("name")], "body.withheld[0].field"),  # mandatory
        ([withhold("nowhere")], "body.withheld[0].field"),  # not a public field
        ([withhold("vendor"), withhold("vendor")], "body.withheld[1].field"),  # twice
        ([withhold("vendor", WithholdingReason.other)], "body.withheld[0].text"),  # other without text
    ],
)
def test_a_bad_withholding_is_refused_naming_the_field(withheld: list[Withholding], field: str) -> None:
    made = project()
    with pytest.raises(InvalidInputs) as refused:
        made.publish(public_record(made, GATE, None), withheld, CAIO)
    assert field in [problem.field for problem in refused.value.problems]
    assert made.publications == 0


def test_a_record_missing_a_mandatory_public_field_is_refused() -> None:
    details = {key: value for key, value in DETAILS.items() if key != "human_review"}
    made = Project(ministry="MIC", details=details, meta=PLANNER)
    assert "human_review" in MANDATORY_PUBLIC_FIELDS
    with pytest.raises(InvalidInputs) as refused:
        made.publish(public_record(made, None, None), [], CAIO)
    assert [problem.field for problem in refused.value.problems] == ["body.human_review"]


def test_other_with_a_text_is_accepted() -> None:
    made = project()
    made.publish(public_record(made, GATE, None), [withhold("models", WithholdingReason.other, "pilot")], CAIO)
    assert published_event(made).record["models"]["text"] == "pilot"


def test_out_of_date_means_a_project_event_after_the_last_publication() -> None:
    assert not publication_out_of_date(None, 7)  # never published
    assert not publication_out_of_date(7, 7)  # the publication is the last event
    assert publication_out_of_date(7, 8)


def fold_story() -> tuple[Projection, str]:
    log, made = InMemoryLog("registry"), project()
    made.publish(public_record(made, GATE, None), [withhold("vendor")], CAIO)
    log.save(made)
    state = Projection()
    for envelope in log.envelopes():
        state.apply(envelope)
    return state, str(made.id)


def test_the_fold_keeps_each_publication_with_its_log_position() -> None:
    state, project_id = fold_story()
    doc = state.projects[project_id]
    [publication] = doc["registry"]["publications"]
    assert publication["log"]["position"] == state.positions["registry"]
    assert publication["project_version"] == doc["registry"]["version"]
    assert not any(step["what"] == REPUBLICATION for step in pending_for(doc))


def test_an_amendment_after_publication_puts_a_republication_on_the_caio() -> None:
    state, project_id = fold_story()
    doc = state.projects[project_id]
    doc["registry"]["version"] += 1  # as the fold does for a later ProjectAmended
    assert public.register_item(doc)["out_of_date"]
    assert {"what": REPUBLICATION, "role": "caio", "ministry": "MIC"} in pending_for(doc)


def test_the_public_shapes_show_the_reason_never_the_value_in_either_language() -> None:
    state, project_id = fold_story()
    doc = state.projects[project_id]
    for language in ("en", "ja"):
        shown = public.project(doc, language)
        page = public.project_html(doc, shown, language)
        index = public.index_html([public.register_item(doc)], None, language)
        text = json.dumps(shown, ensure_ascii=False) + page + index
        assert SECRET_VENDOR not in text and "carol" not in text
        assert shown["record"]["vendor"]["withheld"] is True
    assert "非公開（営業秘密）" in public.project_html(doc, public.project(doc, "ja"), "ja")
    assert "Withheld (commercial confidentiality)" in public.project_html(doc, public.project(doc, "en"), "en")
    assert public.as_csv([public.register_item(doc)], "ja").splitlines()[0].startswith("プロジェクトID,府省庁,名称")
