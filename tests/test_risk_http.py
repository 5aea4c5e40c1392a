"""The guideline's risk process end to end through HTTP: screening, classification, the Advisory Board,
incidents, ruleset versions, and the registry's gate before operation."""

from __future__ import annotations

from tests.support import ServiceStack, current, wait_for
from tests.support.scenarios import (
    HIGH_RISK,
    LOW_RISK,
    Ministry,
    answers,
    assert_problem,
    assess,
    complete_submission,
    head,
    wait_for_gate,
)


def test_screening_names_the_viewpoints_that_drove_it(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    public_facing = assess(ministry, ministry.register(users="public"), HIGH_RISK)["screening"]
    assert public_facing["likely_high_risk"] is True
    assert set(public_facing["high_viewpoints"]) == {"users", "nature_of_work", "staff_judgment"}
    assert any("Users" in line for line in public_facing["explanation"]) and any(
        "Staff judgment" in line for line in public_facing["explanation"]
    )

    two_viewpoints = assess(
        ministry, ministry.register(users="public"), answers("public", "internal_support", "none", "none")
    )["screening"]
    assert two_viewpoints["likely_high_risk"] is True and two_viewpoints["high_viewpoints"] == [
        "users",
        "staff_judgment",
    ]

    drafting_aid = assess(ministry, ministry.register(), LOW_RISK)["screening"]
    assert drafting_aid["likely_high_risk"] is False and drafting_aid["high_viewpoints"] == []


def test_incomplete_answers_list_the_missing_questions(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    project_id = ministry.register()
    assessment_id = ministry.planner.post(f"/v1/projects/{project_id}/assessments", json={}).json()["id"]
    partial = {"answers": {"users": HIGH_RISK["answers"]["users"]}}
    assert (
        ministry.planner.put(
            f"/v1/assessments/{assessment_id}/answers",
            headers=current(ministry.planner, f"/v1/assessments/{assessment_id}"),
            json=partial,
        ).status_code
        == 200
    )
    before = head(stack, "risk")
    body = assert_problem(
        ministry.planner.post(
            f"/v1/assessments/{assessment_id}/submit",
            headers=current(ministry.planner, f"/v1/assessments/{assessment_id}"),
        ),
        422,
    )
    assert body["missing"] == ["answers.nature_of_work", "answers.confidential_data", "answers.staff_judgment"]
    assert_problem(
        ministry.planner.put(
            f"/v1/assessments/{assessment_id}/answers",
            headers=current(ministry.planner, f"/v1/assessments/{assessment_id}"),
            json={"answers": {"users": {"choice": "aliens", "justification": "j"}}},
        ),
        422,
        "body.answers.users.choice",
    )
    assert_problem(
        ministry.planner.put(
            f"/v1/assessments/{assessment_id}/answers",
            headers=current(ministry.planner, f"/v1/assessments/{assessment_id}"),
            json={"answers": {"colour": {"choice": "red", "justification": "j"}}},
        ),
        422,
        "body.answers.colour",
    )
    assert head(stack, "risk") == before


def test_the_full_high_risk_path_and_the_gate_before_operation(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    project_id = ministry.register(users="public", nature_of_work="public_information", human_review="none")
    for stage in ("procurement", "development"):
        assert ministry.transition(project_id, stage).status_code == 200
    assert "risk classification" in wait_for_gate(ministry, project_id, "risk classification").json()["detail"]

    assessment = assess(ministry, project_id, HIGH_RISK)
    assert assessment["screening"]["likely_high_risk"] is True
    assert "risk classification" in wait_for_gate(ministry, project_id, "risk classification").json()["detail"]

    classified = ministry.caio.post(
        f"/v1/assessments/{assessment['id']}/classification",
        headers=current(ministry.caio, f"/v1/assessments/{assessment['id']}"),
        json={"classification": "high", "reasons": "public-facing answers without staff judgment"},
    )
    assert classified.status_code == 200, classified.text
    refused = wait_for_gate(ministry, project_id, "Advisory Board")
    assert refused.json()["missing"] == [
        "the Advisory Board's advice on a submission",
        "the CAIO's decision to proceed (proceed or proceed_with_conditions)",
    ]

    draft = ministry.planner.post(
        f"/v1/projects/{project_id}/board-submissions",
        json={"objectives": "Answer citizens", "assessment_id": assessment["id"]},
    )
    assert draft.status_code == 201
    incomplete = assert_problem(
        ministry.caio.post(
            f"/v1/projects/{project_id}/board-submissions/{draft.json()['id']}/submit",
            headers=current(ministry.caio, f"/v1/board-submissions/{draft.json()['id']}"),
        ),
        422,
    )
    assert {"expected_results", "mitigation_measures", "quality_assurance", "supporting_information"} <= set(
        incomplete["missing"]
    )

    submission_id = ministry.planner.post(
        f"/v1/projects/{project_id}/board-submissions", json=complete_submission(assessment["id"])
    ).json()["id"]
    assert (
        ministry.caio.post(
            f"/v1/projects/{project_id}/board-submissions/{submission_id}/submit",
            headers=current(ministry.caio, f"/v1/board-submissions/{submission_id}"),
        ).status_code
        == 200
    )
    queue = [item["id"] for item in ministry.board.get("/v1/board/queue").json()["items"]]
    assert submission_id in queue

    conditions = ["Publish the accuracy metrics quarterly", "Keep a human escalation path"]
    advice = ministry.board.post(
        f"/v1/board-submissions/{submission_id}/advice",
        headers=current(ministry.board, f"/v1/board-submissions/{submission_id}"),
        json={"opinion": "advice_with_conditions", "text": "Proceed with care.", "conditions": conditions},
    )
    assert advice.status_code == 200
    assert "CAIO's decision" in wait_for_gate(ministry, project_id, "CAIO's decision").json()["detail"]

    assert_problem(
        ministry.caio.post(
            f"/v1/board-submissions/{submission_id}/decision",
            headers=current(ministry.caio, f"/v1/board-submissions/{submission_id}"),
            json={
                "decision": "proceed_with_conditions",
                "reasons": "r",
                "condition_responses": [{"condition": conditions[0], "response": "accepted"}],
            },
        ),
        422,
    )
    responses = [
        {"condition": conditions[0], "response": "accepted"},
        {"condition": conditions[1], "response": "answered", "note": "call-centre fallback"},
    ]
    decided = ministry.caio.post(
        f"/v1/board-submissions/{submission_id}/decision",
        headers=current(ministry.caio, f"/v1/board-submissions/{submission_id}"),
        json={
            "decision": "proceed_with_conditions",
            "reasons": "conditions accepted",
            "condition_responses": responses,
        },
    )
    assert decided.status_code == 200, decided.text

    assert wait_for_gate(ministry, project_id, None).json()["stage"] == "operation"
    risk = ministry.planner.get(f"/v1/projects/{project_id}/risk").json()
    assert (
        risk["status"] == "classified_high"
        and risk["board_status"] == "decided"
        and risk["decision"] == "proceed_with_conditions"
    )
    assert risk["reevaluation_due_at"] is not None and risk["pending"] == []


def test_a_material_amendment_makes_the_classification_stale_and_blocks_operation(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    project_id = ministry.register()
    for stage in ("procurement", "development"):
        ministry.transition(project_id, stage)
    assessment = assess(ministry, project_id, LOW_RISK)
    assert (
        ministry.caio.post(
            f"/v1/assessments/{assessment['id']}/classification",
            headers=current(ministry.caio, f"/v1/assessments/{assessment['id']}"),
            json={"classification": "not_high", "reasons": "internal drafting aid"},
        ).status_code
        == 200
    )
    version = ministry.planner_registry.get(f"/v1/projects/{project_id}").headers["ETag"]
    assert (
        ministry.planner_registry.patch(
            f"/v1/projects/{project_id}",
            json={"reason": "opened to citizens", "users": "public"},
            headers={"If-Match": version},
        ).status_code
        == 200
    )

    refused = wait_for_gate(ministry, project_id, "stale")
    assert "re-evaluation" in refused.json()["detail"]
    risk = wait_for(
        lambda: (r := ministry.planner.get(f"/v1/projects/{project_id}/risk").json())["status"] == "stale" and r
    )
    assert risk["evaluation_due"] is True and risk["pending"][0]["what"] == "re-evaluation"

    reassessed = assess(ministry, project_id, LOW_RISK)
    assert (
        ministry.caio.post(
            f"/v1/assessments/{reassessed['id']}/classification",
            headers=current(ministry.caio, f"/v1/assessments/{reassessed['id']}"),
            json={"classification": "not_high", "reasons": "still staff-reviewed"},
        ).status_code
        == 200
    )
    assert wait_for_gate(ministry, project_id, None).status_code == 200


def test_override_needs_a_justification_recorded_as_such(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    assessment = assess(ministry, ministry.register(users="public"), HIGH_RISK)
    url, seen = f"/v1/assessments/{assessment['id']}/classification", {"If-Match": f'"{assessment["version"]}"'}
    body = assert_problem(
        ministry.caio.post(url, headers=seen, json={"classification": "not_high", "reasons": "we disagree"}), 422
    )
    assert body["missing"] == ["override_justification"]
    overridden = ministry.caio.post(
        url,
        headers=seen,
        json={
            "classification": "not_high",
            "reasons": "we disagree",
            "override_justification": "outputs are templated and pre-approved",
        },
    )
    assert overridden.status_code == 200
    assert overridden.json()["classification"]["override"] is True
    assert overridden.json()["classification"]["override_justification"] == "outputs are templated and pre-approved"


def test_no_one_acts_where_they_do_not_belong(stack: ServiceStack) -> None:
    ministry, other = Ministry(stack), Ministry(stack)
    project_id = ministry.register(users="public")
    assessment = assess(ministry, project_id, HIGH_RISK)
    url, seen = f"/v1/assessments/{assessment['id']}/classification", {"If-Match": f'"{assessment["version"]}"'}
    before = head(stack, "risk")
    assert_problem(other.caio.post(url, headers=seen, json={"classification": "high", "reasons": "not mine"}), 403)
    assert_problem(ministry.planner.post(url, headers=seen, json={"classification": "high", "reasons": "planner"}), 403)
    impostor = stack.client("risk", stack.token("not-designated", ["caio"], ministry.code))
    assert_problem(
        impostor.post(url, headers=seen, json={"classification": "high", "reasons": "claims to be CAIO"}), 403
    )
    assert head(stack, "risk") == before

    assert (
        ministry.caio.post(url, headers=seen, json={"classification": "high", "reasons": "public facing"}).status_code
        == 200
    )
    submission_id = ministry.planner.post(
        f"/v1/projects/{project_id}/board-submissions", json=complete_submission(assessment["id"])
    ).json()["id"]
    before = head(stack, "risk")
    assert_problem(
        ministry.board.post(
            f"/v1/board-submissions/{submission_id}/advice",
            headers=current(ministry.board, f"/v1/board-submissions/{submission_id}"),
            json={"opinion": "no_concerns", "text": "not submitted yet"},
        ),
        409,
    )
    assert (
        ministry.caio.post(
            f"/v1/projects/{project_id}/board-submissions/{submission_id}/submit",
            headers=current(ministry.caio, f"/v1/board-submissions/{submission_id}"),
        ).status_code
        == 200
    )
    before = head(stack, "risk")
    assert_problem(
        ministry.board.post(
            f"/v1/board-submissions/{submission_id}/decision",
            headers=current(ministry.board, f"/v1/board-submissions/{submission_id}"),
            json={"decision": "proceed", "reasons": "board decides"},
        ),
        403,
    )
    auditor = stack.client("risk", stack.token("aud", ["auditor"]))
    assert_problem(
        auditor.post(
            f"/v1/board-submissions/{submission_id}/advice",
            headers=current(auditor, f"/v1/board-submissions/{submission_id}"),
            json={"opinion": "no_concerns", "text": "auditor"},
        ),
        403,
    )
    assert head(stack, "risk") == before


def test_incidents_show_in_the_risk_state_and_a_severe_one_makes_reevaluation_due(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    project_id = ministry.register()
    for stage in ("procurement", "development"):
        ministry.transition(project_id, stage)
    assessment = assess(ministry, project_id, LOW_RISK)
    ministry.caio.post(
        f"/v1/assessments/{assessment['id']}/classification",
        headers=current(ministry.caio, f"/v1/assessments/{assessment['id']}"),
        json={"classification": "not_high", "reasons": "drafting aid"},
    )
    wait_for_gate(ministry, project_id, None)

    incident = {
        "occurred_at": "2026-11-20T09:00:00+09:00",
        "what_happened": "A draft cited a repealed ordinance",
        "harm": "none",
        "severity": "low",
        "immediate_actions": "Draft corrected",
    }
    before = head(stack, "risk")
    assert_problem(
        ministry.planner.post(
            f"/v1/projects/{project_id}/incidents", json={**incident, "occurred_at": "2026-11-20T09:00:00"}
        ),
        422,
        "body.occurred_at",
    )
    assert head(stack, "risk") == before, "a time without offset (JST or UTC?) must not be recorded"
    minor = ministry.planner.post(f"/v1/projects/{project_id}/incidents", json=incident)
    assert minor.status_code == 201
    risk = ministry.planner.get(f"/v1/projects/{project_id}/risk").json()
    assert risk["incident_ids"] == [minor.json()["id"]] and risk["status"] == "classified_not_high"

    severe = ministry.planner.post(
        f"/v1/projects/{project_id}/incidents",
        json={
            **incident,
            "harm": "individuals",
            "severity": "high",
            "what_happened": "Personal data of a citizen appeared in a draft",
        },
    )
    risk = ministry.planner.get(f"/v1/projects/{project_id}/risk").json()
    assert (
        risk["status"] == "stale"
        and risk["severe_incidents"] == [severe.json()["id"]]
        and risk["evaluation_due"] is True
    )
    reported = ministry.caio.post(
        f"/v1/incidents/{severe.json()['id']}/report",
        headers=current(ministry.caio, f"/v1/incidents/{severe.json()['id']}"),
        json={"reference": "DA-2026-0042"},
    )
    assert reported.status_code == 200 and reported.json()["reported_onward"]["reference"] == "DA-2026-0042"
    closed = ministry.planner.post(
        f"/v1/incidents/{severe.json()['id']}/close",
        headers=current(ministry.planner, f"/v1/incidents/{severe.json()['id']}"),
        json={"corrective_measures": "Retrieval index purged; filter added"},
    )
    assert closed.json()["closure"]["corrective_measures"].startswith("Retrieval")


def test_a_decision_to_discontinue_retires_the_project(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    project_id = ministry.register(users="public")
    assessment = assess(ministry, project_id, HIGH_RISK)
    ministry.caio.post(
        f"/v1/assessments/{assessment['id']}/classification",
        headers=current(ministry.caio, f"/v1/assessments/{assessment['id']}"),
        json={"classification": "high", "reasons": "public facing"},
    )
    submission_id = ministry.planner.post(
        f"/v1/projects/{project_id}/board-submissions", json=complete_submission(assessment["id"])
    ).json()["id"]
    ministry.caio.post(
        f"/v1/projects/{project_id}/board-submissions/{submission_id}/submit",
        headers=current(ministry.caio, f"/v1/board-submissions/{submission_id}"),
    )
    ministry.board.post(
        f"/v1/board-submissions/{submission_id}/advice",
        headers=current(ministry.board, f"/v1/board-submissions/{submission_id}"),
        json={"opinion": "serious_concerns", "text": "Outputs cannot be verified."},
    )
    decided = ministry.caio.post(
        f"/v1/board-submissions/{submission_id}/decision",
        headers=current(ministry.caio, f"/v1/board-submissions/{submission_id}"),
        json={"decision": "discontinue", "reasons": "risks outweigh benefits"},
    )
    assert decided.status_code == 200
    project = wait_for(
        lambda: (p := ministry.planner_registry.get(f"/v1/projects/{project_id}").json())["stage"] == "retired" and p
    )
    retired = ministry.planner_registry.get(f"/v1/projects/{project_id}/events").json()["items"][-1]
    assert retired["meta"]["actor_role"] == "system" and "discontinue" in retired["meta"]["reason"]
    assert project["allowed_transitions"] == []
