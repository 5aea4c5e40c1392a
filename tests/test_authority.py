"""Issue 13, finding by finding: each exact sequence that let a forbidden decision into the log is now refused
with the status named, and leaves no event in either log. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from shared.pagination import encode_cursor
from tests.support import ServiceStack, current, project_body, read_whole_log
from tests.support.scenarios import (
    HIGH_RISK,
    Ministry,
    advise,
    assert_problem,
    assess,
    classify,
    complete_submission,
    head,
    heads,
    high_risk_in_development,
    submit,
)

INCIDENT = {
    "occurred_at": "2026-11-20T09:00:00+09:00",
    "what_happened": "A draft cited a repealed ordinance",
    "harm": "none",
    "severity": "low",
    "immediate_actions": "Draft corrected",
}


PROCUREMENT = {
    "vendor": "ACME",
    "contract_reference": "C-1",
    "procurement_checks": [{"item": "quality", "answer": "met"}],
    "contract_checks": [{"item": "training", "answer": "met"}],
    "reason": "signed",
}


def refused_without_event(stack: ServiceStack, status: int, attempt: Callable[[], httpx.Response]) -> dict[str, Any]:
    """``attempt`` answers ``status`` as problem+json and neither log grows."""
    before = heads(stack)
    body = assert_problem(attempt(), status)
    assert heads(stack) == before, "a refused command appended an event"
    return body


def decide(client: httpx.Client, submission_id: str) -> httpx.Response:
    return client.post(
        f"/v1/board-submissions/{submission_id}/decision",
        headers=current(client, f"/v1/board-submissions/{submission_id}"),
        json={"decision": "proceed", "reasons": "advice taken", "condition_responses": []},
    )


# -- finding 2: a designation binds every act in the caio role ---------------------------------------------


def test_an_undesignated_or_dismissed_caio_cannot_act_in_the_caio_role(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    project_id = ministry.register()
    assert ministry.transition(project_id, "procurement").status_code == 200
    incident = ministry.planner.post(f"/v1/projects/{project_id}/incidents", json=INCIDENT).json()
    root = stack.client("registry", stack.token("root", ["admin"]))
    dismissed = ministry.caio_id
    assert (
        root.delete(
            f"/v1/ministries/{ministry.code}/caio",
            params={"reason": "dismissed"},
            headers=current(root, f"/v1/ministries/{ministry.code}"),
        ).status_code
        == 200
    )
    project = f"/v1/projects/{project_id}"
    acts: list[tuple[str, str, str, dict[str, Any] | None, bool]] = [
        ("registry", "POST", "/v1/projects", project_body(ministry.code), False),
        ("registry", "PATCH", project, {"title": "Renamed", "reason": "caio edit"}, True),
        ("registry", "POST", f"{project}/transitions", {"to": "retired", "reason": "abandon"}, True),
        ("registry", "POST", f"{project}/transitions", {"to": "development", "reason": "next"}, True),
        ("registry", "PUT", f"{project}/procurement", PROCUREMENT, True),
        ("risk", "POST", f"{project}/incidents", INCIDENT, False),
        ("risk", "POST", f"/v1/incidents/{incident['id']}/close", {"corrective_measures": "fixed"}, True),
        ("risk", "POST", f"/v1/incidents/{incident['id']}/report", {"reference": "DA-1", "reason": "r"}, True),
    ]
    for officer in (dismissed, "never-designated"):
        for service, method, path, body, needs_version in acts:
            client = stack.client(service, stack.token(officer, ["caio"], ministry.code))
            headers = {"If-Match": "*"} if needs_version else {}
            attempt = functools.partial(client.request, method, path, json=body, headers=headers)
            problem = refused_without_event(stack, 403, attempt)
            assert "designated" in problem["detail"], (method, path, problem)


# -- finding 3: the Board reviews what is current ----------------------------------------------------------------


def test_a_stale_board_review_cannot_open_the_gate(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    project_id, first = high_risk_in_development(ministry)
    assert classify(ministry.caio, first["id"]).status_code == 200
    old_draft = ministry.planner.post(
        f"/v1/projects/{project_id}/board-submissions", json=complete_submission(first["id"])
    ).json()["id"]
    s1 = ministry.planner.post(f"/v1/projects/{project_id}/board-submissions", json=complete_submission(first["id"]))
    assert s1.status_code == 201 and submit(ministry, project_id, s1.json()["id"]).status_code == 200
    amended = ministry.planner_registry.patch(
        f"/v1/projects/{project_id}",
        json={"reason": "now uses case files", "data": {"confidentiality": "confidential", "personal_data": True}},
        headers=current(ministry.planner_registry, f"/v1/projects/{project_id}"),
    )
    assert amended.status_code == 200
    second = assess(ministry, project_id, HIGH_RISK)
    assert classify(ministry.caio, second["id"]).status_code == 200
    current_classification = {"assessment_id": second["id"], "classification": "high"}

    advice = refused_without_event(stack, 409, lambda: advise(ministry.board, s1.json()["id"]))
    assert advice["current_classification"] == current_classification
    decision = refused_without_event(stack, 409, lambda: decide(ministry.caio, s1.json()["id"]))
    assert decision["current_classification"] == current_classification
    gate = refused_without_event(stack, 409, lambda: ministry.transition(project_id, "operation"))
    assert "the Advisory Board's advice on a submission" in gate["missing"]
    draft = refused_without_event(
        stack,
        422,
        lambda: ministry.planner.post(
            f"/v1/projects/{project_id}/board-submissions", json=complete_submission(first["id"])
        ),
    )
    assert draft["errors"][0]["field"] == "body.assessment_id"
    stale_draft = refused_without_event(stack, 409, lambda: submit(ministry, project_id, old_draft))
    assert stale_draft["current_classification"] == current_classification


def test_a_material_amendment_supersedes_the_submission_under_review_at_once(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    project_id, assessment = high_risk_in_development(ministry)
    assert classify(ministry.caio, assessment["id"]).status_code == 200
    s1 = ministry.planner.post(
        f"/v1/projects/{project_id}/board-submissions", json=complete_submission(assessment["id"])
    )
    assert submit(ministry, project_id, s1.json()["id"]).status_code == 200
    amended = ministry.planner_registry.patch(
        f"/v1/projects/{project_id}",
        json={"reason": "staff review only sampled", "human_review": "sampled"},
        headers=current(ministry.planner_registry, f"/v1/projects/{project_id}"),
    )
    assert amended.status_code == 200, amended.text
    # no waiting for the follower: the Board's command itself waits for the registry's head
    body = refused_without_event(stack, 409, lambda: advise(ministry.board, s1.json()["id"]))
    assert body["current_classification"] is None
    queue = ministry.board.get("/v1/board/queue", params={"limit": 500}).json()["items"]
    assert s1.json()["id"] not in [item["id"] for item in queue], "a superseded submission is still queued"


# -- finding 4: separation of duties, whatever roles a token holds -------------------------------------------------


def test_combined_roles_do_not_approve_their_own_work(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    root = stack.client("registry", stack.token("ada", ["admin", "caio"], ministry.code))
    self_designation = refused_without_event(
        stack,
        403,
        lambda: root.put(
            f"/v1/ministries/{ministry.code}/caio",
            headers=current(root, f"/v1/ministries/{ministry.code}"),
            json={"officer_id": "ada", "name": "Ada", "reason": "myself"},
        ),
    )
    assert self_designation["duty"] == "not_self_designation"

    project_id, assessment = high_risk_in_development(ministry)
    assert classify(ministry.caio, assessment["id"]).status_code == 200
    submission_id = ministry.planner.post(
        f"/v1/projects/{project_id}/board-submissions", json=complete_submission(assessment["id"])
    ).json()["id"]
    assert submit(ministry, project_id, submission_id).status_code == 200
    own_board = stack.client("risk", stack.token(ministry.caio_id, ["caio", "board_member"], ministry.code))
    body = refused_without_event(stack, 403, lambda: advise(own_board, submission_id))
    assert body["duty"] == "board_outside_own_ministry"
    planner_board = stack.client("risk", stack.token("alice", ["planner", "board_member"], ministry.code))
    assert refused_without_event(stack, 403, lambda: advise(planner_board, submission_id))["duty"] == (
        "board_outside_own_ministry"
    )

    adviser = stack.client("risk", stack.token(ministry.caio_id, ["board_member"]))
    assert advise(adviser, submission_id).status_code == 200
    body = refused_without_event(stack, 403, lambda: decide(ministry.caio, submission_id))
    assert body["duty"] == "adviser_does_not_decide"


def test_whoever_answered_an_assessment_does_not_classify_it(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    both = stack.token(ministry.caio_id, ["planner", "caio"], ministry.code)
    ministry.planner = stack.client("risk", both)  # the designated CAIO answers, acting as planner
    project_id = ministry.register()
    assessment = assess(ministry, project_id, HIGH_RISK)
    body = refused_without_event(stack, 403, lambda: classify(stack.client("risk", both), assessment["id"]))
    assert body["duty"] == "answerer_does_not_classify"
    caio_only = stack.client("risk", stack.token(ministry.caio_id, ["caio"], ministry.code))
    assert refused_without_event(stack, 403, lambda: classify(caio_only, assessment["id"]))["duty"] == (
        "answerer_does_not_classify"
    )


# -- finding 5: causal consistency across services -------------------------------------------------------------------


def test_a_write_names_its_position_and_another_service_answers_after_it(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    body, key = project_body(ministry.code), {"Idempotency-Key": f"register-{uuid.uuid4()}"}
    registered = ministry.planner_registry.post("/v1/projects", json=body, headers=key)
    assert registered.status_code == 201
    position = registered.headers["Aigov-Position"]
    registration = next(
        entry["position"]
        for entry in reversed(read_whole_log(stack.client("registry", stack.token("aud", ["auditor"]))))
        if entry["aggregate_id"] == registered.json()["id"]
    )
    assert position == f"registry={registration}"
    replayed = ministry.planner_registry.post("/v1/projects", json=body, headers=key)
    assert replayed.headers["Idempotent-Replayed"] == "true" and replayed.headers["Aigov-Position"] == position
    risk = ministry.planner.get(
        f"/v1/projects/{registered.json()['id']}/risk", headers={"Aigov-After": position}, timeout=10
    )
    assert risk.status_code == 200, risk.text
    reporting = stack.client("reporting", stack.token("aud", ["auditor"]))
    timeline = reporting.get(
        f"/v1/audit/projects/{registered.json()['id']}/timeline", headers={"Aigov-After": position}
    )
    assert timeline.status_code == 200, timeline.text


def test_aigov_after_beyond_the_head_is_503_follower_behind_after_the_bound(stack: ServiceStack) -> None:
    reader = stack.client("risk", stack.token("aud", ["auditor"]))
    beyond = head(stack, "registry") + 1000
    response = reader.get("/v1/rulesets", headers={"Aigov-After": f"registry={beyond}"}, timeout=30)
    body = assert_problem(response, 503)
    assert body["type"] == "urn:aigov:problem:follower-behind" and response.headers["Retry-After"]
    assert body["behind"]["registry"]["required"] == beyond
    for bad in ("registry=", "registry=-1", "reporting=3", "registry=99999999999999999999", "nonsense"):
        assert_problem(reader.get("/v1/rulesets", headers={"Aigov-After": bad}), 400, "header.Aigov-After")


# -- finding 6: identity and reads -----------------------------------------------------------------------------------


def test_identity_is_checked_before_anything_else(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    for sub in ("", "   ", "a" * 256, "nul\x00byte"):
        client = stack.client(
            "registry", stack.token(sub, ["planner"], ministry.code, name="Someone"), **{"Idempotency-Key": "k-1"}
        )
        refused_without_event(
            stack, 401, lambda client=client: client.post("/v1/projects", json=project_body(ministry.code))
        )
    anonymous = stack.client("registry")
    refused_without_event(
        stack,
        401,
        lambda: anonymous.post("/v1/projects", content=b"{not json", headers={"content-type": "application/json"}),
    )
    huge = stack.token("alice", ["planner"], ministry.code, name="x" * 200_000)
    response = stack.client("registry", huge).get("/v1/projects")
    assert_problem(response, 431, "header.authorization")


def test_the_logs_are_for_oversight_roles_only(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    for service in ("registry", "risk"):
        for path in ("/v1/log", "/v1/log/verify"):
            assert_problem(
                ministry.planner.get(path) if service == "risk" else ministry.planner_registry.get(path), 403
            )
            for role in ("auditor", "admin", "secretariat"):
                assert stack.client(service, stack.token("o", [role])).get(path).status_code == 200


# -- finding 7: no 500 on any input ----------------------------------------------------------------------------------


def test_hostile_inputs_get_a_4xx_naming_the_field(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    root = stack.client("registry", stack.token("root", ["admin"]))
    ministry_id = str(uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_URL, "urn:aigov:ministry"), ministry.code))
    client = ministry.planner_registry
    refused_without_event(stack, 404, lambda: client.get(f"/v1/projects/{ministry_id}"))
    refused_without_event(
        stack,
        404,
        lambda: client.patch(
            f"/v1/projects/{ministry_id}", json={"title": "t", "reason": "r"}, headers={"If-Match": "*"}
        ),
    )
    refused_without_event(
        stack,
        404,
        lambda: client.post(
            f"/v1/projects/{ministry_id}/transitions", json={"to": "retired", "reason": "r"}, headers={"If-Match": "*"}
        ),
    )
    auditor = stack.client("registry", stack.token("aud", ["auditor"]))
    assert_problem(auditor.get("/v1/log", params={"after": 2**63 - 1}), 422, "query.after")
    huge_cursor = encode_cursor((10**26,))
    assert_problem(auditor.get("/v1/log", params={"cursor": huge_cursor}), 422, "query.cursor")
    project_id = ministry.register()
    refused_without_event(
        stack,
        400,
        lambda: client.patch(
            f"/v1/projects/{project_id}",
            json={"title": "t", "reason": "r"},
            headers={"If-Match": '"' + "9" * 5000 + '"'},
        ),
    )
    for title in ("nul\x00byte", "x"):
        body = project_body(ministry.code, title=title)
        if title == "x":
            continue
        problem = refused_without_event(stack, 422, lambda body=body: client.post("/v1/projects", json=body))
        assert problem["errors"][0]["field"] == "body.title"
    problem = refused_without_event(
        stack,
        422,
        lambda: root.put(
            f"/v1/ministries/{ministry.code}/caio",
            headers=current(root, f"/v1/ministries/{ministry.code}"),
            json={"officer_id": "bad\x00id", "name": "N", "reason": "r"},
        ),
    )
    assert problem["errors"][0]["field"] == "body.officer_id"
    refused_without_event(stack, 422, lambda: client.get("/v1/projects", params={"ministry": "M\x00"}))
    long_url = "/v1/projects?ministry=" + "M" * 3000
    assert_problem(client.get(long_url), 414, "url")
    deep = b"[" * 10_000 + b"]" * 10_000
    for raw in (deep, b'{"title": "\xff\xfe"}', b'{"expected_users": NaN}'):
        problem = refused_without_event(
            stack,
            400,
            lambda raw=raw: client.post("/v1/projects", content=raw, headers={"content-type": "application/json"}),
        )
        assert problem["errors"][0]["field"] == "body"


def test_rulesets_must_have_bounded_integers_and_finite_numbers(stack: ServiceStack) -> None:
    root = stack.client("risk", stack.token("root", ["admin"]))
    content = root.get("/v1/rulesets/jp-genai-2.0/versions/1").json()["content"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({**content, "version": 2**63}, "body.version"),
        ({**content, "version": 2**31}, "body.version"),
        (with_points(content, 10**400), "body.viewpoints.0.questions.0.choices.0.points"),
    ]
    for document, field in cases:
        problem = refused_without_event(stack, 422, lambda document=document: root.post("/v1/rulesets", json=document))
        assert field in [error["field"] for error in problem["errors"]], problem


def with_points(content: dict[str, Any], points: int) -> dict[str, Any]:
    viewpoint = content["viewpoints"][0]
    question = viewpoint["questions"][0]
    choice = {**question["choices"][0], "points": points}
    question = {**question, "choices": [choice, *question["choices"][1:]]}
    viewpoint = {**viewpoint, "questions": [question, *viewpoint["questions"][1:]]}
    return {**content, "version": 7, "viewpoints": [viewpoint, *content["viewpoints"][1:]]}


# -- both headers are in the OpenAPI documents, so generated clients carry them ----------------------------


def test_the_openapi_documents_carry_aigov_after_and_aigov_position() -> None:
    import json

    from shared.openapi_examples import operations
    from shared.policy import POLICY, PUBLIC
    from tests.support import PROJECT_ROOT

    for service in ("registry", "risk", "reporting"):
        document = json.loads((PROJECT_ROOT / "docs" / "openapi" / f"{service}.json").read_text())
        for method, path, operation in operations(document):
            public = {"healthz", "readyz", "metrics", "get_public_key"}
            public |= {"get_log_checkpoint", "get_inclusion_proof", "get_consistency_proof"}  # the transparency log
            if operation["operationId"] in public or POLICY.get(operation["operationId"]) is PUBLIC:
                continue  # public (the public register too): answers at once, as of what reporting holds
            names = [parameter["name"] for parameter in operation.get("parameters", [])]
            assert "Aigov-After" in names, (service, method, path)
            if method != "get":
                successes = [response for status, response in operation["responses"].items() if status[0] == "2"]
                assert successes and all("Aigov-Position" in r.get("headers", {}) for r in successes), (service, path)


# -- finding 8: the body limit counts streamed bytes ------------------------------------------------------------


def stream_chunked(stack: ServiceStack, token: str | None, total: int) -> tuple[bytes, int]:
    """POST a chunked body of up to ``total`` bytes, 64 KiB at a time, until the service answers; returns the
    answer's first bytes and how much had been sent by then."""
    import select
    import socket

    sock = socket.create_connection(("127.0.0.1", stack.ports["registry"]), timeout=30)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    sock.sendall(
        f"POST /v1/projects HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n".encode()
    )
    chunk, sent = b" " * 65536, 0
    try:
        while sent < total:
            if select.select([sock], [], [], 0)[0]:
                break
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
        answer = sock.recv(65536)
    except OSError:
        answer = sock.recv(65536)
    finally:
        sock.close()
    return answer, sent


def test_a_chunked_body_is_counted_as_it_streams_and_reading_stops_at_the_limit(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    before = heads(stack)
    answer, sent = stream_chunked(stack, None, 300 * 1024 * 1024)
    assert answer.startswith(b"HTTP/1.1 401") and b"application/problem+json" in answer, answer[:200]
    assert sent < 64 * 1024 * 1024, f"the service read {sent} bytes of an unauthenticated upload before answering"
    token = stack.token("alice", ["planner"], ministry.code)
    answer, sent = stream_chunked(stack, token, 300 * 1024 * 1024)
    assert answer.startswith(b"HTTP/1.1 413") and b"application/problem+json" in answer, answer[:200]
    assert sent < 64 * 1024 * 1024, f"the service read {sent} bytes beyond its 1 MiB limit before answering"
    assert heads(stack) == before
