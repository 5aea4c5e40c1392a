"""The public register (issue 16, items 4 and 5; acceptance 3 and 4), through HTTP on SQLite and PostgreSQL.

Acceptance 3: without any token the register lists exactly the published records; a withheld field never
appears with its value (every public response is scanned for the withheld values, and for internal identities);
a project amended after publication shows out of date (on the public page and on the CAIO's pending list);
``Accept: text/csv`` and the HTML pages work; unpublished projects are 404.
Acceptance 4: ``Accept-Language: ja`` gives Japanese on the periodic report page, the public pages and problem
responses, ``en`` English.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from services.reporting.readmodel import ReportingStore
from tests.support import ServiceStack, current, wait_for
from tests.support.scenarios import Ministry, assert_problem, auditor, caught_up

SECRET_VENDOR = f"Undisclosed Vendor {uuid.uuid4().hex[:8]} KK"
SECRET_DESCRIPTION = f"Runs on cluster {uuid.uuid4().hex[:8]} behind the ministry's gateway."


def public(stack: ServiceStack, **headers: str) -> httpx.Client:
    """A citizen: no token at all."""
    return stack.client("reporting", None, **headers)


def publish(ministry: Ministry, project_id: str, withheld: list[dict[str, Any]]) -> httpx.Response:
    client = ministry.caio_registry
    return client.post(
        f"/v1/projects/{project_id}/publications",
        headers=current(client, f"/v1/projects/{project_id}"),
        json={"withheld": withheld, "reason": "publish in the public register"},
    )


WITHHELD = [
    {"field": "vendor", "reason": "commercial_confidentiality"},
    {"field": "description", "reason": "other", "text": "describes the network layout"},
]


@pytest.fixture(scope="module")
def register(stack: ServiceStack) -> dict[str, Any]:
    """One ministry: a project published with two fields withheld, and one never published."""
    ministry = Ministry(stack)
    published = ministry.register(description=SECRET_DESCRIPTION, title=f"Published aid {ministry.code}")
    unpublished = ministry.register(title=f"Unpublished aid {ministry.code}")
    assert ministry.transition(published, "procurement").status_code == 200
    procurement = ministry.planner_registry.put(
        f"/v1/projects/{published}/procurement",
        headers=current(ministry.planner_registry, f"/v1/projects/{published}"),
        json={
            "vendor": SECRET_VENDOR,
            "contract_reference": "C-1",
            "procurement_checks": [{"item": "P-01", "answer": "met"}],
            "contract_checks": [{"item": "C-01", "answer": "met"}],
        },
    )
    assert procurement.status_code == 200, procurement.text
    response = publish(ministry, published, WITHHELD)
    assert response.status_code == 200, response.text
    assert response.json()["publications"] == 1
    wait_for(lambda: public(stack).get(f"/public/v1/projects/{published}").status_code == 200)
    return {"ministry": ministry, "published": published, "unpublished": unpublished}


def every_public_response(stack: ServiceStack, register: dict[str, Any]) -> list[httpx.Response]:
    code, published = register["ministry"].code, register["published"]
    responses = []
    for language in ("en", "ja"):
        client = public(stack, **{"Accept-Language": language})
        responses += [
            client.get("/public/v1/projects", params={"ministry": code}),
            client.get("/public/v1/projects", params={"ministry": code}, headers={"Accept": "text/csv"}),
            client.get("/public/v1/projects.csv", params={"ministry": code}),
            client.get("/public/v1/projects.html", params={"ministry": code}),
            client.get(f"/public/v1/projects/{published}"),
            client.get(f"/public/v1/projects/{published}.html"),
            client.get(f"/public/v1/projects/{published}/versions/1"),
        ]
    return responses


def test_the_register_lists_exactly_the_published_records_without_a_token(
    stack: ServiceStack, register: dict[str, Any]
) -> None:
    client, code = public(stack), register["ministry"].code
    listed = client.get("/public/v1/projects", params={"ministry": code})
    assert listed.status_code == 200, listed.text
    assert [item["project_id"] for item in listed.json()["items"]] == [register["published"]]
    project = client.get(f"/public/v1/projects/{register['published']}").json()
    assert project["record"]["name"] == f"Published aid {code}" and project["publication"] == 1
    assert project["record"]["vendor"] == {
        "withheld": True,
        "reason": "commercial_confidentiality",
        "reason_label": "commercial confidentiality",
        "text": None,
    }
    assert project["record"]["description"]["text"] == "describes the network layout"
    assert project["record"]["chief_ai_officer"] == "Chie Sato"
    assert project["log"]["service"] == "registry" and project["log"]["position"] > 0 and project["log"]["hash"]
    assert [version["publication"] for version in project["versions"]] == [1]
    proof = project["proof"]  # the same proof the registry's own transparency log gives, without a token
    from_registry = stack.client("registry").get(
        "/v1/log/proof/inclusion", params={"position": project["log"]["position"], "tree_size": proof["tree_size"]}
    )
    assert from_registry.status_code == 200 and from_registry.json() == {k: proof[k] for k in from_registry.json()}
    for path in ("", ".html", "/versions/1"):
        assert_problem(client.get(f"/public/v1/projects/{register['unpublished']}{path}"), 404)
    assert_problem(client.get(f"/public/v1/projects/{register['published']}/versions/2"), 404)
    assert_problem(client.get(f"/public/v1/projects/{uuid.uuid4()}"), 404)


def test_no_public_response_holds_a_withheld_value_or_an_internal_identity(
    stack: ServiceStack, register: dict[str, Any]
) -> None:
    ministry = register["ministry"]
    responses = every_public_response(stack, register)
    assert all(response.status_code == 200 for response in responses), [r.text for r in responses]
    for response in responses:
        for secret in (SECRET_VENDOR, SECRET_DESCRIPTION, ministry.caio_id, "alice", register["unpublished"]):
            assert secret not in response.text, (response.request.url, secret)
    # the values are really there to leak: the bearer-token views hold them
    state = auditor(stack).get(f"/v1/projects/{register['published']}/public-record").json()
    assert state["tier_2"]["purpose"]["description"] == SECRET_DESCRIPTION


def test_csv_and_html_pages_work_and_carry_etag_and_cache_control(
    stack: ServiceStack, register: dict[str, Any]
) -> None:
    client, code, published = public(stack), register["ministry"].code, register["published"]
    by_accept = client.get("/public/v1/projects", params={"ministry": code}, headers={"Accept": "text/csv"})
    assert by_accept.headers["content-type"].startswith("text/csv")
    header, row = by_accept.text.splitlines()
    assert header == "Project id,Ministry or agency,Name,Stage,Publication,Published at,Out of date"
    assert row.startswith(f"{published},{code},Published aid {code},procurement,1,")
    assert client.get("/public/v1/projects.csv", params={"ministry": code}).text == by_accept.text
    index = client.get("/public/v1/projects.html", params={"ministry": code})
    assert index.headers["content-type"].startswith("text/html") and f"{published}.html" in index.text
    page = client.get(f"/public/v1/projects/{published}.html")
    assert page.headers["content-type"].startswith("text/html") and '<html lang="ja">' in page.text
    assert "非公開（営業秘密）" in page.text and f"Published aid {code}" in page.text
    for response in (by_accept, index, page):
        assert response.headers["ETag"].startswith('"') and "max-age" in response.headers["Cache-Control"]
        held = {**response.request.headers, "If-None-Match": response.headers["ETag"]}
        again = client.get(response.request.url, headers=held)
        assert again.status_code == 304 and again.content == b""


def test_an_amendment_after_publication_shows_out_of_date_until_published_again(
    stack: ServiceStack, register: dict[str, Any]
) -> None:
    ministry, published, client = register["ministry"], register["published"], public(stack)
    amended = ministry.planner_registry.patch(
        f"/v1/projects/{published}",
        headers=current(ministry.planner_registry, f"/v1/projects/{published}"),
        json={"expected_users": 450, "reason": "rolled out to a second bureau"},
    )
    assert amended.status_code == 200, amended.text
    wait_for(lambda: client.get(f"/public/v1/projects/{published}").json()["out_of_date"])
    assert "更新待ち" in client.get(f"/public/v1/projects/{published}.html").text
    listed = client.get("/public/v1/projects", params={"ministry": ministry.code}).json()["items"]
    assert listed[0]["out_of_date"] is True
    pending = auditor(stack).get("/v1/pending", params={"ministry": ministry.code, "role": "caio"}).json()["items"]
    assert any(item["project_id"] == published and "public register" in item["what"] for item in pending)

    assert publish(ministry, published, WITHHELD[:1]).status_code == 200
    def republished() -> dict[str, Any] | None:
        body = client.get(f"/public/v1/projects/{published}").json()
        return body if body["publication"] == 2 else None

    latest = wait_for(republished)
    assert latest["out_of_date"] is False and [v["publication"] for v in latest["versions"]] == [1, 2]
    assert latest["record"]["description"] == SECRET_DESCRIPTION  # no longer withheld: the CAIO published it
    first = client.get(f"/public/v1/projects/{published}/versions/1").json()
    assert first["record"]["description"]["withheld"] is True and first["latest"] is False
    pending = auditor(stack).get("/v1/pending", params={"ministry": ministry.code, "role": "caio"}).json()["items"]
    assert not any(item["project_id"] == published and "public register" in item["what"] for item in pending)


def test_only_the_designated_caio_publishes_and_bad_publications_are_refused_naming_the_field(
    stack: ServiceStack, register: dict[str, Any]
) -> None:
    ministry, project_id = register["ministry"], register["unpublished"]
    planner = ministry.planner_registry
    headers = current(planner, f"/v1/projects/{project_id}")
    assert_problem(planner.post(f"/v1/projects/{project_id}/publications", headers=headers, json={}), 403)
    other = stack.client("registry", stack.token("someone", ["caio"], ministry.code))
    assert_problem(other.post(f"/v1/projects/{project_id}/publications", headers=headers, json={}), 403)
    caio = ministry.caio_registry
    assert_problem(caio.post(f"/v1/projects/{project_id}/publications", json={}), 428)
    mandatory = publish(ministry, project_id, [{"field": "name", "reason": "security"}])
    assert_problem(mandatory, 422, "body.withheld[0].field")
    unknown = publish(ministry, project_id, [{"field": "budget", "reason": "security"}])
    assert_problem(unknown, 422, "body.withheld[0].field")
    no_review = ministry.register(human_review=None)
    assert_problem(publish(ministry, no_review, []), 422, "body.human_review")
    assert caio.get(f"/v1/projects/{project_id}").json()["publications"] == 0
    assert_problem(public(stack).get(f"/public/v1/projects/{project_id}"), 404)


def test_problems_and_pages_speak_japanese_or_english_as_asked(stack: ServiceStack, register: dict[str, Any]) -> None:
    unpublished, ministry = register["unpublished"], register["ministry"]
    ja = public(stack, **{"Accept-Language": "ja"}).get(f"/public/v1/projects/{unpublished}")
    body = assert_problem(ja, 404)
    assert body["title"] == "リソースが見つかりません"
    assert body["detail"] == f"プロジェクト {unpublished} の公表された記録はありません。"
    assert ja.headers["Content-Language"] == "ja"
    en = assert_problem(public(stack, **{"Accept-Language": "en"}).get(f"/public/v1/projects/{unpublished}"), 404)
    assert en["title"] == "Resource not found" and en["detail"] == f"No published record of project {unpublished}."
    assert assert_problem(public(stack).get(f"/public/v1/projects/{unpublished}"), 404)["title"] == "Resource not found"

    registry_ja = ministry.planner_registry.get(f"/v1/projects/{uuid.uuid4()}", headers={"Accept-Language": "ja"})
    assert assert_problem(registry_ja, 404)["detail"].startswith("ID ")
    invalid = ministry.planner_registry.post(
        "/v1/projects", json={"ministry": ministry.code}, headers={"Accept-Language": "ja"}
    )
    problem = assert_problem(invalid, 422, "body.title")
    assert problem["title"] == "リクエストが不正です" and problem["detail"].startswith("不正なリクエスト: body.title")

    page_ja = public(stack).get(f"/public/v1/projects/{register['published']}.html")
    page_en = public(stack, **{"Accept-Language": "en"}).get(f"/public/v1/projects/{register['published']}.html")
    assert "概要（第1層）" in page_ja.text and "Summary (tier 1)" in page_en.text and '<html lang="en">' in page_en.text
    json_ja = public(stack, **{"Accept-Language": "ja"}).get(f"/public/v1/projects/{register['published']}").json()
    assert json_ja["language"] == "ja" and json_ja["labels"]["name"] == "名称"
    assert json_ja["record"]["vendor"]["reason_label"] == "営業秘密"

    reader = auditor(stack)
    period = "2026H2"
    report_ja = reader.get(f"/v1/ministries/{ministry.code}/periodic-report.html", params={"period": period})
    assert '<html lang="ja">' in report_ja.text and "生成AIシステム 定期報告" in report_ja.text
    assert "段階別・リスク別のプロジェクト数" in report_ja.text
    page = f"/v1/ministries/{ministry.code}/periodic-report"
    report_en = reader.get(f"{page}.html", params={"period": period}, headers={"Accept-Language": "en"})
    assert "Generative AI systems: periodic report" in report_en.text and "生成AI" not in report_en.text
    csv_ja = reader.get(f"{page}.csv", params={"period": period}, headers={"Accept-Language": "ja"})
    assert csv_ja.text.splitlines()[0].startswith("プロジェクトID,名称,段階")


def test_the_register_pages_by_cursor_in_json_and_csv(stack: ServiceStack, register: dict[str, Any]) -> None:
    """Runs last: it publishes the module's second project, so the ministry's register holds two."""
    ministry, client = register["ministry"], public(stack)
    assert publish(ministry, register["unpublished"], []).status_code == 200
    wait_for(lambda: client.get(f"/public/v1/projects/{register['unpublished']}").status_code == 200)
    first = client.get("/public/v1/projects", params={"ministry": ministry.code, "limit": 1})
    assert [item["project_id"] for item in first.json()["items"]] == [register["published"]]
    second = client.get(first.json()["next"])
    assert [item["project_id"] for item in second.json()["items"]] == [register["unpublished"]]
    assert second.json()["next"] is None
    csv_first = client.get("/public/v1/projects.csv", params={"ministry": ministry.code, "limit": 1})
    next_url = csv_first.headers["Link"].split(">")[0].lstrip("<")
    assert register["unpublished"] in client.get(next_url).text and register["unpublished"] not in csv_first.text


def test_the_live_documents_with_publications_equal_a_replay_of_the_logs(
    stack: ServiceStack, register: dict[str, Any]
) -> None:
    """The follower's batched path (which loads only the documents a batch touches) folds ProjectPublished into
    exactly the document a replay from position zero makes, and the as-of history keeps every publication."""
    caught_up(stack)
    store = ReportingStore(stack.settings)
    live, replayed = store.load(), store.replay()
    for project_id in (register["published"], register["unpublished"]):
        assert live.projects[project_id] == replayed.projects[project_id]
        assert live.projects[project_id]["registry"]["publications"]
    response = auditor(stack).get(f"/v1/audit/projects/{register['published']}/state")
    assert response.status_code == 200, response.text
    state = response.json()["project"]
    assert [p["publication"] for p in state["registry"]["publications"]] == [1, 2]
