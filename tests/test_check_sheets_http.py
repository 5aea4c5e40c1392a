"""Check sheets through HTTP on both databases (issue 16, items 1-3): sheets as published versions, answers pinned
to them, the gates before development and operation naming each missing item, the designated CAIO's risk
acceptance, reopening by a classification, an amendment or a vendor's notice of a model change."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from tests.support import ServiceStack, current, wait_for
from tests.support.scenarios import (
    CONTRACT_SHEET,
    HIGH_RISK,
    LOW_RISK,
    PROCUREMENT_SHEET,
    Ministry,
    admin,
    all_met,
    answer_sheets,
    assert_problem,
    assess,
    classify,
    sheet_items,
)

# What applies to a SaaS project with personal data, not (yet) classified high, in the shipped sheets.
SAAS_PERSONAL_PROCUREMENT = [
    "P-GOV-01", "P-GOV-02", "P-DEV-01", "P-DEV-02", "P-MQ-01", "P-MQ-02", "P-MQ-03", "P-SEC-01", "P-SEC-02",
    "P-SEC-03", "P-SEC-04", "P-OUT-01", "P-OUT-03", "P-PD-01", "P-PD-02", "P-PD-03",
]  # fmt: skip
SAAS_PERSONAL_CONTRACT = [
    "C-DAT-01", "C-DAT-02", "C-LOC-01", "C-LOC-02", "C-LOG-01", "C-MOD-01", "C-INC-01", "C-EXT-01", "C-EXT-02",
]  # fmt: skip
HIGH_ONLY_PROCUREMENT = ["P-GOV-03", "P-DEV-03", "P-MQ-04", "P-OUT-02", "P-PD-04"]
HIGH_ONLY_CONTRACT = ["C-INC-02"]
PERSONAL_DATA = {"confidentiality": "confidential", "personal_data": True}


def only(client: httpx.Client, sheet_id: str, items: list[str], **answers: dict[str, Any]) -> dict[str, Any]:
    """Answers to exactly ``items`` of the sheet (met unless ``answers`` says otherwise)."""
    body = all_met(client, sheet_id, **answers)
    body["answers"] = [answer for answer in body["answers"] if answer["item"] in items]
    return body


def sheets_of(client: httpx.Client, project_id: str) -> dict[str, dict[str, Any]]:
    response = client.get(f"/v1/projects/{project_id}/check-sheets")
    assert response.status_code == 200, response.text
    return {sheet["kind"]: sheet for sheet in response.json()["sheets"]}


def named(missing: list[str], kind: str, sheet_id: str) -> list[str]:
    """The item ids a refusal names for one sheet (each entry: "<kind> sheet <id> v1, item <item>: <title> (…)")."""
    prefix = f"{kind} sheet {sheet_id} v1, item "
    return [entry[len(prefix) :].split(":")[0] for entry in missing if entry.startswith(prefix)]


def events_of(stack: ServiceStack, project_id: str) -> list[dict[str, Any]]:
    reader = stack.client("registry", stack.token("aud", ["auditor"]))
    response = reader.get(f"/v1/projects/{project_id}/events", params={"limit": 200})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def saas_personal_in_procurement(ministry: Ministry) -> str:
    project_id = ministry.register(data=PERSONAL_DATA)
    assert ministry.transition(project_id, "procurement").status_code == 200
    return project_id


def test_the_shipped_sheets_are_published_versions_in_english_and_japanese(stack: ServiceStack) -> None:
    reader = stack.client("registry", stack.token("aud", ["auditor"]))
    listed = reader.get("/v1/check-sheets").json()["items"]
    shipped = {(row["sheet_id"], row["version"], row["kind"]) for row in listed}
    assert {(PROCUREMENT_SHEET, 1, "procurement"), (CONTRACT_SHEET, 1, "contract")} <= shipped
    sheet = reader.get(f"/v1/check-sheets/{PROCUREMENT_SHEET}/versions/1").json()
    assert len(sheet["content"]["items"]) > 20 and len(sheet["content_hash"]) == 64
    assert all(item["title"]["en"] and item["title"]["ja"] for item in sheet["content"]["items"])
    contract = sheet_items(reader, CONTRACT_SHEET)
    assert [item["id"] for item in contract if "model_change" in item["reopened_by"]] == ["C-MOD-01"]
    assert_problem(reader.get(f"/v1/check-sheets/{PROCUREMENT_SHEET}/versions/99"), 404)


def test_incomplete_or_invalid_answers_are_refused_naming_every_missing_item(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    client = ministry.planner_registry
    project_id = saas_personal_in_procurement(ministry)
    short = only(client, PROCUREMENT_SHEET, SAAS_PERSONAL_PROCUREMENT[2:])
    refused = assert_problem(answer_sheets(client, project_id, contract=False, procurement_sheet=short), 422)
    assert refused["missing"] == ["procurement_sheet.answers[P-GOV-01]", "procurement_sheet.answers[P-GOV-02]"]

    no_reason = only(client, PROCUREMENT_SHEET, SAAS_PERSONAL_PROCUREMENT, P_SEC_02={"answer": "not_applicable"})
    index = [answer["item"] for answer in no_reason["answers"]].index("P-SEC-02")
    assert_problem(
        answer_sheets(client, project_id, contract=False, procurement_sheet=no_reason),
        422,
        f"body.procurement_sheet.answers[{index}].reason",
    )
    unknown = {**only(client, PROCUREMENT_SHEET, SAAS_PERSONAL_PROCUREMENT), "version": 99}
    assert_problem(answer_sheets(client, project_id, procurement_sheet=unknown), 422, "body.procurement_sheet.version")
    wrong_kind = all_met(client, CONTRACT_SHEET)
    wrongly = answer_sheets(client, project_id, procurement_sheet=wrong_kind)
    assert_problem(wrongly, 422, "body.procurement_sheet.sheet_id")
    assert client.get(f"/v1/projects/{project_id}").json()["procurement"] is None  # nothing entered the log

    legacy = client.put(
        f"/v1/projects/{project_id}/procurement",
        headers=current(client, f"/v1/projects/{project_id}"),
        json={
            "vendor": "V",
            "contract_reference": "C-1",
            "procurement_checks": [{"item": "P-01", "answer": "met"}],
            "contract_checks": [{"item": "C-01", "answer": "met"}],
        },
    )
    assert legacy.status_code == 200, legacy.text  # the version-1 body is still recorded …
    still = assert_problem(ministry.transition_only(project_id, "development"), 409)
    assert named(still["missing"], "procurement", PROCUREMENT_SHEET) == SAAS_PERSONAL_PROCUREMENT  # … but opens no gate


def test_a_saas_project_with_personal_data_passes_each_gate_only_with_its_sheets_complete_and_risks_accepted(
    stack: ServiceStack,
) -> None:
    ministry = Ministry(stack)
    client = ministry.planner_registry
    project_id = saas_personal_in_procurement(ministry)

    refused = assert_problem(ministry.transition_only(project_id, "development"), 409)
    assert named(refused["missing"], "procurement", PROCUREMENT_SHEET) == SAAS_PERSONAL_PROCUREMENT
    assert "A privacy impact assessment" not in refused["detail"]  # high-risk only: not yet

    procurement = only(client, PROCUREMENT_SHEET, SAAS_PERSONAL_PROCUREMENT, P_SEC_02={"answer": "not_applicable",
                       "reason": "the vendor hosts the model in a government cloud"})  # fmt: skip
    assert answer_sheets(client, project_id, contract=False, procurement_sheet=procurement).status_code == 200
    assert sheets_of(client, project_id)["procurement"]["state"] == "complete"
    moved = ministry.transition_only(project_id, "development")
    assert moved.status_code == 200, moved.text

    refused = assert_problem(ministry.transition_only(project_id, "operation"), 409)
    assert named(refused["missing"], "contract", CONTRACT_SHEET) == SAAS_PERSONAL_CONTRACT
    assert "the CAIO's risk classification (the risk evaluation is not yet decided)" in refused["missing"]

    contract = only(client, CONTRACT_SHEET, SAAS_PERSONAL_CONTRACT, C_LOG_01={"answer": "not_met",
                    "note": "the vendor keeps logs 30 days, not 1 year"})  # fmt: skip
    assert answer_sheets(client, project_id, procurement_sheet=procurement, contract_sheet=contract).status_code == 200
    assert sheets_of(client, project_id)["contract"]["unaccepted"] == ["C-LOG-01"]
    assessment = assess(ministry, project_id, LOW_RISK)
    assert classify(ministry.caio, assessment["id"], "not_high").status_code == 200
    refused = wait_for(
        lambda: (r := ministry.transition_only(project_id, "operation")).status_code == 409
        and "risk classification" not in r.text
        and r
    )
    assert refused.json()["missing"] == [
        f"contract sheet {CONTRACT_SHEET} v1, item C-LOG-01: "
        + next(item["title"]["en"] for item in sheet_items(client, CONTRACT_SHEET) if item["id"] == "C-LOG-01")
        + " (not_met, without the designated CAIO's risk acceptance)"
    ]

    url = f"/v1/projects/{project_id}/check-sheets/contract/items/C-LOG-01/risk-acceptance"
    reason = {"reason": "30 days meets the ministry's audit needs for this internal tool"}
    assert_problem(client.post(url, headers=current(client, f"/v1/projects/{project_id}"), json=reason), 403)
    other = stack.client("registry", stack.token("not-the-caio", ["caio"], ministry.code))
    assert_problem(other.post(url, headers=current(other, f"/v1/projects/{project_id}"), json=reason), 403)
    met_item = url.replace("C-LOG-01", "C-DAT-01")
    caio = ministry.caio_registry
    assert_problem(caio.post(met_item, headers=current(caio, f"/v1/projects/{project_id}"), json=reason), 409)
    accepted = caio.post(url, headers=current(caio, f"/v1/projects/{project_id}"), json=reason)
    assert accepted.status_code == 200, accepted.text
    contract_now = sheets_of(client, project_id)["contract"]
    assert contract_now["unaccepted"] == [] and contract_now["state"] == "complete"
    assert [a["risk_accepted"] for a in contract_now["answers"] if a["item"] == "C-LOG-01"] == [True]
    acceptance = [event for event in events_of(stack, project_id) if event["type"] == "CheckItemRiskAccepted"]
    assert [(e["meta"]["actor_id"], e["meta"]["actor_role"], e["data"]["item"]) for e in acceptance] == [
        (ministry.caio_id, "caio", "C-LOG-01")
    ]
    operating = ministry.transition_only(project_id, "operation")
    assert operating.status_code == 200, operating.text


def test_a_high_classification_makes_high_risk_items_apply_and_reopens_both_sheets(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    client = ministry.planner_registry
    project_id = saas_personal_in_procurement(ministry)
    procurement = only(client, PROCUREMENT_SHEET, SAAS_PERSONAL_PROCUREMENT)
    contract = only(client, CONTRACT_SHEET, SAAS_PERSONAL_CONTRACT)
    assert answer_sheets(client, project_id, procurement_sheet=procurement, contract_sheet=contract).status_code == 200
    assert ministry.transition_only(project_id, "development").status_code == 200
    assert {kind: sheet["state"] for kind, sheet in sheets_of(client, project_id).items()} == {
        "procurement": "complete",
        "contract": "complete",
    }

    assessment = assess(ministry, project_id, HIGH_RISK)
    assert classify(ministry.caio, assessment["id"], "high").status_code == 200
    reopened = wait_for(lambda: [e for e in events_of(stack, project_id) if e["type"] == "CheckSheetReopened"])
    assert [(e["data"]["kind"], e["data"]["items"], e["data"]["cause"]) for e in reopened] == [
        ("procurement", HIGH_ONLY_PROCUREMENT, "classification"),
        ("contract", HIGH_ONLY_CONTRACT, "classification"),
    ]
    assert reopened[0]["meta"]["actor_role"] == "system"
    sheets = sheets_of(client, project_id)
    assert (sheets["procurement"]["state"], sheets["procurement"]["missing"]) == ("incomplete", HIGH_ONLY_PROCUREMENT)
    assert sheets["contract"]["missing"] == HIGH_ONLY_CONTRACT
    refused = assert_problem(ministry.transition_only(project_id, "operation"), 409)
    assert named(refused["missing"], "procurement", PROCUREMENT_SHEET) == HIGH_ONLY_PROCUREMENT
    assert named(refused["missing"], "contract", CONTRACT_SHEET) == HIGH_ONLY_CONTRACT
    assert "the Advisory Board's advice on a submission" in refused["missing"]

    answered = answer_sheets(
        client,
        project_id,
        procurement_sheet=only(client, PROCUREMENT_SHEET, SAAS_PERSONAL_PROCUREMENT + HIGH_ONLY_PROCUREMENT),
        contract_sheet=only(client, CONTRACT_SHEET, SAAS_PERSONAL_CONTRACT + HIGH_ONLY_CONTRACT),
    )
    assert answered.status_code == 200, answered.text
    refused = assert_problem(ministry.transition_only(project_id, "operation"), 409)
    assert named(refused["missing"], "procurement", PROCUREMENT_SHEET) == []
    assert named(refused["missing"], "contract", CONTRACT_SHEET) == []


def test_a_material_amendment_that_makes_items_apply_reopens_the_sheet(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    client = ministry.planner_registry
    project_id = ministry.register()  # SaaS, no personal data
    assert ministry.transition(project_id, "procurement").status_code == 200
    without_personal = [item for item in SAAS_PERSONAL_PROCUREMENT if not item.startswith("P-PD")]
    procurement = only(client, PROCUREMENT_SHEET, without_personal)
    assert answer_sheets(client, project_id, contract=False, procurement_sheet=procurement).status_code == 200

    amended = client.patch(
        f"/v1/projects/{project_id}",
        headers=current(client, f"/v1/projects/{project_id}"),
        json={"reason": "citizens' records will be searched", "data": PERSONAL_DATA},
    )
    assert amended.status_code == 200, amended.text
    reopened = [e["data"] for e in events_of(stack, project_id) if e["type"] == "CheckSheetReopened"]
    assert [(data["kind"], data["items"], data["cause"]) for data in reopened] == [
        ("procurement", ["P-PD-01", "P-PD-02", "P-PD-03"], "amendment")
    ]
    status = {entry["kind"]: entry for entry in reopened[0]["status"]}
    assert status["procurement"]["state"] == "incomplete" and status["contract"]["state"] == "not_answered"
    refused = assert_problem(ministry.transition_only(project_id, "development"), 409)
    assert named(refused["missing"], "procurement", PROCUREMENT_SHEET) == ["P-PD-01", "P-PD-02", "P-PD-03"]

    reverted = client.patch(
        f"/v1/projects/{project_id}",
        headers=current(client, f"/v1/projects/{project_id}"),
        json={"reason": "no personal data after all", "data": {"confidentiality": "internal", "personal_data": False}},
    )
    assert reverted.status_code == 200, reverted.text
    changed = [e["data"] for e in events_of(stack, project_id) if e["type"] == "CheckSheetStatusChanged"]
    assert [(data["cause"], {s["kind"]: s["state"] for s in data["status"]}) for data in changed] == [
        ("amendment", {"procurement": "complete", "contract": "not_answered"})
    ]
    assert ministry.transition_only(project_id, "development").status_code == 200


def test_a_model_change_notice_in_operation_makes_the_classification_stale_and_reopens_the_contract_item(
    stack: ServiceStack,
) -> None:
    ministry = Ministry(stack)
    client = ministry.planner_registry
    project_id = ministry.register()
    for stage in ("procurement", "development"):
        assert ministry.transition(project_id, stage).status_code == 200
    assessment = assess(ministry, project_id, LOW_RISK)
    assert classify(ministry.caio, assessment["id"], "not_high").status_code == 200
    wait_for(lambda: ministry.transition_only(project_id, "operation").status_code == 200)

    notice = {
        "provider": "ExampleAI",
        "model": "example-large",
        "version": "2027-01",
        "effective_date": "2027-01-15",
        "changes": "A new base model; the safety filter is retrained.",
    }
    url = f"/v1/projects/{project_id}/model-changes"
    assert_problem(client.post(url, json=notice), 428)
    assert_problem(client.post(url, headers=current(client, f"/v1/projects/{project_id}"), json={**notice,
                   "effective_date": "soon"}), 422, "body.effective_date")  # fmt: skip
    noticed = client.post(url, headers=current(client, f"/v1/projects/{project_id}"), json=notice)
    assert noticed.status_code == 200, noticed.text

    events = events_of(stack, project_id)
    assert [e["type"] for e in events[-2:]] == ["ModelChangeNoticed", "CheckSheetReopened"]
    assert events[-2]["data"] == {
        "provider": "ExampleAI",
        "model": "example-large",
        "model_version": "2027-01",
        "effective_date": "2027-01-15",
        "changes": "A new base model; the safety filter is retrained.",
    }
    assert (events[-1]["data"]["kind"], events[-1]["data"]["items"], events[-1]["data"]["cause"]) == (
        "contract",
        ["C-MOD-01"],
        "model_change",
    )
    contract = sheets_of(client, project_id)["contract"]
    assert (contract["state"], contract["missing"]) == ("incomplete", ["C-MOD-01"])
    assert "C-MOD-01" not in [answer["item"] for answer in contract["answers"]]

    risk = wait_for(
        lambda: (r := ministry.planner.get(f"/v1/projects/{project_id}/risk").json())["status"] == "stale" and r
    )
    assert "model change to example-large 2027-01" in risk["stale_causes"][-1]
    suspended = ministry.transition_only(project_id, "suspended")
    assert suspended.status_code == 200
    resumed = ministry.transition_only(project_id, "operation")
    assert resumed.status_code == 200  # resuming an operation under way is not gated (as before)


def test_reports_show_each_projects_sheet_status(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    client = ministry.planner_registry
    project_id = saas_personal_in_procurement(ministry)
    reporting = stack.client("reporting", stack.token("aud", ["auditor"]))

    def item() -> dict[str, Any] | None:
        rows = reporting.get("/v1/inventory", params={"ministry": ministry.code}).json()["items"]
        return rows[0] if rows else None

    first = wait_for(item)
    assert [(s["kind"], s["state"]) for s in first["check_sheets"]] == [
        ("procurement", "not_answered"),
        ("contract", "not_answered"),
    ]
    contract = only(client, CONTRACT_SHEET, SAAS_PERSONAL_CONTRACT, C_LOG_01={"answer": "not_met"})
    procurement = only(client, PROCUREMENT_SHEET, SAAS_PERSONAL_PROCUREMENT)
    assert answer_sheets(client, project_id, procurement_sheet=procurement, contract_sheet=contract).status_code == 200
    answered = wait_for(lambda: (row := item()) and row["check_sheets"][0]["state"] == "complete" and row)
    assert answered["check_sheets"] == [
        {"kind": "procurement", "sheet_id": PROCUREMENT_SHEET, "version": 1, "state": "complete", "missing": [],
         "unaccepted": []},
        {"kind": "contract", "sheet_id": CONTRACT_SHEET, "version": 1, "state": "complete", "missing": [],
         "unaccepted": ["C-LOG-01"]},
    ]  # fmt: skip
    state = reporting.get(f"/v1/audit/projects/{project_id}/state").json()["project"]
    assert state["registry"]["check_sheets"] == answered["check_sheets"]


def test_an_admin_publishes_a_new_version_once_and_a_bad_sheet_is_refused_naming_the_field(
    stack: ServiceStack,
) -> None:
    """Last in this module: a sheet published later is what a project that answered none is measured against."""
    root = admin(stack)
    content = copy.deepcopy(root.get(f"/v1/check-sheets/{CONTRACT_SHEET}/versions/1").json()["content"])
    content["id"], content["version"] = f"test-contract-{id(stack)}", 2
    content["items"][0]["title"]["ja"] = "公式の文言"
    published = root.post("/v1/check-sheets", json=content)
    assert published.status_code == 201, published.text
    assert published.json()["content"]["items"][0]["title"]["ja"] == "公式の文言"
    assert root.post("/v1/check-sheets", json=content).json()["content_hash"] == published.json()["content_hash"]
    changed = copy.deepcopy(content)
    changed["items"][0]["title"]["en"] = "Other words"
    assert_problem(root.post("/v1/check-sheets", json=changed), 409)
    stray = copy.deepcopy(content)
    stray["version"], stray["items"][0]["applies_when"] = 3, ["sometimes"]
    assert_problem(root.post("/v1/check-sheets", json=stray), 422, "body.items.0.applies_when.0")
    planner = stack.client("registry", stack.token("alice", ["planner"], "MIC"))
    assert_problem(planner.post("/v1/check-sheets", json={**content, "version": 4}), 403)


def test_the_gate_refusal_speaks_japanese_when_asked(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    client = ministry.planner_registry
    project_id = saas_personal_in_procurement(ministry)
    headers = {**current(client, f"/v1/projects/{project_id}"), "Accept-Language": "ja"}
    refused = client.post(
        f"/v1/projects/{project_id}/transitions", headers=headers, json={"to": "development", "reason": "next"}
    )
    body = assert_problem(refused, 409)
    assert body["detail"].startswith("このプロジェクトはまだ開発段階に移行できません: ")
    assert named(body["missing"], "procurement", PROCUREMENT_SHEET) == SAAS_PERSONAL_PROCUREMENT
    english = client.post(
        f"/v1/projects/{project_id}/transitions",
        headers={**headers, "Accept-Language": "en"},
        json={"to": "development", "reason": "next"},
    )
    assert assert_problem(english, 409)["detail"].startswith("The project cannot enter development yet: ")
