"""The Board workflow, complete (issue 16, item 6), through HTTP on both databases: drafts are edited with a JSON
merge patch and If-Match until submitted; a 'revise_and_resubmit' leads to a new submission that names the one it
revises, shown together in the Board's queue and in reporting's high-risk register; each submission's history is
readable."""

from __future__ import annotations

from typing import Any

from tests.support import ServiceStack, current, read_whole_log
from tests.support.scenarios import (
    Ministry,
    advise,
    assert_problem,
    auditor,
    caught_up,
    classify,
    complete_submission,
    head,
    high_risk_in_development,
    submit,
)

MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


def edit(ministry: Ministry, submission_id: str, patch: dict[str, Any], **headers: str) -> Any:
    path = f"/v1/board-submissions/{submission_id}"
    headers = {**current(ministry.planner, path), **MERGE_PATCH, **headers}
    return ministry.planner.patch(path, json=patch, headers=headers)


def classified_high(ministry: Ministry) -> tuple[str, str]:
    project_id, assessment = high_risk_in_development(ministry)
    assert classify(ministry.caio, assessment["id"]).status_code == 200
    return project_id, assessment["id"]


def decide(ministry: Ministry, submission_id: str, decision: str) -> Any:
    return ministry.caio.post(
        f"/v1/board-submissions/{submission_id}/decision",
        headers=current(ministry.caio, f"/v1/board-submissions/{submission_id}"),
        json={"decision": decision, "reasons": "see the Board's advice", "condition_responses": []},
    )


def test_a_draft_edited_twice_then_submitted(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    project_id, assessment_id = classified_high(ministry)
    complete = complete_submission(assessment_id)
    first = {key: complete[key] for key in ("objectives", "assessment_id")}
    drafted = ministry.planner.post(f"/v1/projects/{project_id}/board-submissions", json=first)
    assert drafted.status_code == 201, drafted.text
    submission_id = drafted.json()["id"]
    assert_problem(submit(ministry, project_id, submission_id), 422)  # incomplete: the draft stays a draft

    one = edit(ministry, submission_id, {key: complete[key] for key in ("expected_results", "mitigation_measures")})
    assert one.status_code == 200, one.text
    assert one.json()["content"]["objectives"] == complete["objectives"], "members not sent stay as they were"
    rest = ("quality_assurance", "supporting_information")
    two = edit(ministry, submission_id, {key: complete[key] for key in rest} | {"objectives": "Sharper objectives"})
    assert two.status_code == 200 and two.headers["ETag"] == '"3"', two.text
    assert two.json()["content"] == complete | {"objectives": "Sharper objectives"}

    stale = ministry.planner.patch(
        f"/v1/board-submissions/{submission_id}", json={"objectives": "lost update"}, headers={"If-Match": '"2"'}
    )
    assert_problem(stale, 412)
    assert_problem(ministry.planner.patch(f"/v1/board-submissions/{submission_id}", json={"objectives": "x"}), 428)
    not_a_list = edit(ministry, submission_id, {"mitigation_measures": "not a list"})
    assert_problem(not_a_list, 422, "body.mitigation_measures")

    submitted = submit(ministry, project_id, submission_id)
    assert submitted.status_code == 200 and submitted.json()["status"] == "awaiting_advice", submitted.text
    before = head(stack, "risk")
    refused = assert_problem(edit(ministry, submission_id, {"objectives": "after the fact"}), 409)
    assert refused["detail"] == "The submission is awaiting_advice; only a draft is edited."
    in_japanese = edit(ministry, submission_id, {"objectives": "after the fact"}, **{"Accept-Language": "ja"})
    japanese = "付議の状態は awaiting_advice です。編集できるのは下書きだけです。"
    assert assert_problem(in_japanese, 409)["detail"] == japanese
    assert head(stack, "risk") == before, "a refused edit records nothing"

    history = ministry.planner.get(f"/v1/board-submissions/{submission_id}/history").json()["items"]
    assert [entry["type"] for entry in history] == [
        "BoardSubmissionDrafted",
        "BoardSubmissionDraftEdited",
        "BoardSubmissionDraftEdited",
        "BoardSubmissionSubmitted",
    ]
    assert history[2]["data"]["content"]["objectives"] == "Sharper objectives"
    assert history[1]["meta"]["actor_id"] == "alice" and history[1]["meta"]["reason"] == "draft edited"


def test_a_revise_and_resubmit_leads_to_a_linked_resubmission_that_the_board_advises(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    project_id, assessment_id = classified_high(ministry)
    drafts = f"/v1/projects/{project_id}/board-submissions"
    first = ministry.planner.post(drafts, json=complete_submission(assessment_id)).json()["id"]
    assert submit(ministry, project_id, first).status_code == 200
    assert advise(ministry.board, first).status_code == 200

    early = ministry.planner.post(drafts, json=complete_submission(assessment_id) | {"previous_submission_id": first})
    assert_problem(early, 409)  # not decided yet: nothing to revise
    assert decide(ministry, first, "revise_and_resubmit").status_code == 200

    other_project, _ = classified_high(ministry)
    elsewhere = ministry.planner.post(
        f"/v1/projects/{other_project}/board-submissions", json={"previous_submission_id": first}
    )
    assert_problem(elsewhere, 422, "body.previous_submission_id")

    revised = complete_submission(assessment_id) | {"objectives": "Revised after the Board's advice"}
    second = ministry.planner.post(drafts, json=revised | {"previous_submission_id": first})
    assert second.status_code == 201, second.text
    second_id = second.json()["id"]
    assert second.json()["previous_submission_id"] == first
    assert submit(ministry, project_id, second_id).status_code == 200

    queue = {item["id"]: item for item in ministry.board.get("/v1/board/queue").json()["items"]}
    assert queue[second_id]["previous_submission_id"] == first and first not in queue
    assert advise(ministry.board, second_id).status_code == 200
    assert decide(ministry, second_id, "proceed").status_code == 200

    caught_up(stack)
    register = auditor(stack).get("/v1/high-risk-register", params={"ministry": ministry.code}).json()["items"]
    entry = next(item for item in register if item["project_id"] == project_id)
    assert entry["submission"]["id"] == second_id and entry["decision"]["decision"] == "proceed"
    previous = entry["previous_submission"]
    assert previous["id"] == first and previous["decision"]["decision"] == "revise_and_resubmit"
    assert previous["advice"]["opinion"] == "no_concerns"
    state = auditor(stack).get(f"/v1/audit/projects/{project_id}/state").json()["project"]
    assert state["board"]["revisions"] == {second_id: first} and state["board"]["previous"]["id"] == first


LEGACY = {"SubmittedToAdvisoryBoard", "AdvisoryBoardAdviceReceived", "MinistryDecisionRecorded", "IncidentNoted"}


def test_each_board_step_and_incident_is_recorded_once(stack: ServiceStack) -> None:
    """The submission records each Board step (naming its project); the project's risk aggregate records none
    of them again. A severe incident is ``IncidentRecorded`` plus the staleness it causes, nothing more."""
    ministry = Ministry(stack)
    project_id, assessment_id = classified_high(ministry)
    before = head(stack, "risk")
    drafts = f"/v1/projects/{project_id}/board-submissions"
    submission_id = ministry.planner.post(drafts, json=complete_submission(assessment_id)).json()["id"]
    assert submit(ministry, project_id, submission_id).status_code == 200
    assert advise(ministry.board, submission_id).status_code == 200
    assert decide(ministry, submission_id, "proceed").status_code == 200
    incident = {
        "occurred_at": "2026-11-20T09:00:00+09:00",
        "what_happened": "Personal data of a citizen appeared in a draft",
        "harm": "individuals",
        "severity": "critical",
        "immediate_actions": "Service taken offline",
    }
    severe = ministry.planner.post(f"/v1/projects/{project_id}/incidents", json=incident)
    assert severe.status_code == 201, severe.text

    reader = stack.client("risk", stack.token("aud", ["auditor"]))
    entries = [entry for entry in read_whole_log(reader) if entry["position"] > before]
    types = [entry["type"] for entry in entries]
    assert types == [
        "BoardSubmissionDrafted",
        "BoardSubmissionSubmitted",
        "BoardAdviceRecorded",
        "CaioDecisionRecorded",
        "IncidentRecorded",
        "ClassificationBecameStale",
    ]
    assert not LEGACY & set(types)
    steps = [entry for entry in entries if entry["type"] in types[1:4]]
    assert {(entry["schema_version"], entry["data"]["project_id"]) for entry in steps} == {(2, project_id)}
    assert entries[-1]["data"]["cause"] == f"severe incident {severe.json()['id']}"
    risk = ministry.planner.get(f"/v1/projects/{project_id}/risk").json()
    assert (risk["board_status"], risk["decision"], risk["status"]) == ("decided", "proceed", "stale")
    assert risk["severe_incidents"] == [severe.json()["id"]] == risk["incident_ids"]
