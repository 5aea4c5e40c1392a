"""Issue 16, items 7 and 8, through HTTP on real storage (SQLite and PostgreSQL): the periodic report submitted by
the designated CAIO and fetched later byte for byte, the secretariat's view of who submitted, the printed page's
"as of", stale classifications and severe incidents, and the ministry's usage rules in force on each side of a
new version's effective date (registry, reporting, the public register and ``?as_of=``).

Acceptance 6 is ``test_a_second_version_of_the_usage_rules_supersedes_the_first_from_its_effective_date``;
acceptance 7 is ``test_one_ministry_submits_the_other_not_an_amendment_makes_it_out_of_date_and_the_report_stays``.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from tests.support import ServiceStack, current, wait_for
from tests.support.scenarios import (
    Ministry,
    assert_problem,
    auditor,
    caught_up,
    classify,
    high_risk_in_development,
)

PERIOD = f"{datetime.now(UTC).year}H{1 if datetime.now(UTC).month <= 6 else 2}"
JST = "+09:00"


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def secretariat(stack: ServiceStack) -> httpx.Client:
    return stack.client("reporting", stack.token("sec", ["secretariat"], name="Sachiko Secretariat"))


def report_url(code: str) -> str:
    return f"/v1/ministries/{code}/periodic-report"


def submission_url(code: str, period: str = PERIOD) -> str:
    return f"/v1/ministries/{code}/periodic-reports/{period}/submission"


def submit_report(ministry: Ministry, report: dict[str, Any], period: str = PERIOD) -> httpx.Response:
    return ministry.caio_registry.post(
        submission_url(ministry.code, period),
        json={
            "content_hash": report["content_hash"],
            "positions": report["positions"],
            "as_of": report["as_of"],
            "reason": "Half-yearly report to the Digital Agency",
        },
    )


def status_of(stack: ServiceStack, code: str, **params: Any) -> dict[str, Any]:
    view = secretariat(stack).get(f"/v1/periodic-reports/{PERIOD}", params={"limit": 500, **params})
    assert view.status_code == 200, view.text
    return next(item for item in view.json()["items"] if item["ministry"] == code)


def test_one_ministry_submits_the_other_not_an_amendment_makes_it_out_of_date_and_the_report_stays(
    stack: ServiceStack,
) -> None:
    submitting, silent = Ministry(stack), Ministry(stack)
    project_id = submitting.register(title="Citizen enquiry assistant")
    silent.register(title="Memo drafting aid")
    caught_up(stack)

    served = auditor(stack).get(report_url(submitting.code), params={"period": PERIOD})
    assert served.status_code == 200, served.text
    report = served.json()
    body = {key: value for key, value in report.items() if key != "content_hash"}
    assert served.content == canonical(report)  # served as its canonical bytes (sorted keys, no whitespace)
    assert report["content_hash"] == "sha256:" + hashlib.sha256(canonical(body)).hexdigest()
    assert report["as_of"] and report["positions"]["registry"] > 0

    submitted = submit_report(submitting, report)
    assert submitted.status_code == 201, submitted.text
    assert submitted.json()["content_hash"] == report["content_hash"]
    assert submitted.json()["submitted_by"] == submitting.caio_id

    caught_up(stack)
    mine, theirs = status_of(stack, submitting.code), status_of(stack, silent.code)
    assert mine["status"] == "submitted" and mine["out_of_date"] is None
    assert mine["submission"]["submitted_by"] == submitting.caio_id
    assert mine["submission"]["submitted_at"] and mine["submission"]["content_hash"] == report["content_hash"]
    assert theirs["status"] == "not_submitted" and theirs["submission"] is None

    log = stack.client("registry", stack.token("aud", ["auditor"])).get("/v1/log", params={"limit": 1000}).json()
    event = next(item for item in log["items"] if item["type"] == "PeriodicReportSubmitted")
    assert event["meta"]["actor_id"] == submitting.caio_id and event["meta"]["actor_role"] == "caio"
    assert event["meta"]["reason"] == "Half-yearly report to the Digital Agency"
    assert event["data"]["content_hash"] == report["content_hash"]
    assert (event["data"]["registry_position"], event["data"]["risk_position"]) == (
        report["positions"]["registry"],
        report["positions"]["risk"],
    )

    amended = submitting.planner_registry.patch(
        f"/v1/projects/{project_id}",
        headers=current(submitting.planner_registry, f"/v1/projects/{project_id}"),
        json={"title": "Citizen enquiry assistant (pilot)", "reason": "renamed after the pilot"},
    )
    assert amended.status_code == 200, amended.text
    caught_up(stack)
    mine = status_of(stack, submitting.code)
    assert mine["status"] == "out_of_date" and mine["out_of_date"]["service"] == "registry"
    assert mine["out_of_date"]["position"] > report["positions"]["registry"]
    assert datetime.fromisoformat(mine["out_of_date"]["since"]) >= datetime.fromisoformat(
        mine["submission"]["submitted_at"]
    )
    assert status_of(stack, silent.code)["status"] == "not_submitted"

    fetched = secretariat(stack).get(submission_url(submitting.code))
    assert fetched.status_code == 200, fetched.text
    assert fetched.content == served.content  # byte for byte what was submitted, after the amendment
    assert fetched.headers["ETag"] == f'"{report["content_hash"]}"'
    assert "Citizen enquiry assistant (pilot)" not in fetched.text
    live = auditor(stack).get(report_url(submitting.code), params={"period": PERIOD}).json()
    assert live["systems"][0]["title"] == "Citizen enquiry assistant (pilot)"
    assert live["content_hash"] != report["content_hash"]

    # As of just before the amendment, the secretariat's view says "submitted" again.
    before = status_of(stack, submitting.code, registry_position=mine["out_of_date"]["position"] - 1)
    assert before["status"] == "submitted"
    assert_problem(secretariat(stack).get(submission_url(silent.code)), 404)


def test_only_the_designated_caio_submits_and_a_hash_that_no_report_has_is_not_served(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    ministry.register()
    caught_up(stack)
    report = auditor(stack).get(report_url(ministry.code), params={"period": PERIOD}).json()
    planner = ministry.planner_registry.post(
        submission_url(ministry.code),
        json={"content_hash": report["content_hash"], "positions": report["positions"], "as_of": report["as_of"],
              "reason": "not mine to submit"},
    )  # fmt: skip
    assert_problem(planner, 403)
    other = Ministry(stack)
    foreign = other.caio_registry.post(
        submission_url(ministry.code),
        json={"content_hash": report["content_hash"], "positions": report["positions"], "as_of": report["as_of"],
              "reason": "another ministry's CAIO"},
    )  # fmt: skip
    assert_problem(foreign, 403)
    assert_problem(
        ministry.caio_registry.post(submission_url(ministry.code), json={"positions": report["positions"]}),
        422,
        "body.content_hash",
    )
    beyond = {**report["positions"], "registry": report["positions"]["registry"] + 10_000}
    assert_problem(
        ministry.caio_registry.post(
            submission_url(ministry.code),
            json={"content_hash": report["content_hash"], "positions": beyond, "as_of": report["as_of"], "reason": "x"},
        ),
        422,
        "body.positions.registry",
    )
    assert_problem(submit_report(ministry, report, period="2026Q3"), 422)
    caught_up(stack)
    assert status_of(stack, ministry.code)["status"] == "not_submitted"  # nothing refused entered the log

    forged = {**report, "content_hash": "sha256:" + "0" * 64}
    assert submit_report(ministry, forged).status_code == 201
    caught_up(stack)
    refused = assert_problem(secretariat(stack).get(submission_url(ministry.code)), 409)
    assert refused["submitted_hash"] == forged["content_hash"] and refused["computed_hash"] == report["content_hash"]


def test_the_printed_page_states_as_of_positions_stale_classification_and_severe_incidents(
    stack: ServiceStack,
) -> None:
    ministry = Ministry(stack)
    project_id, assessment = high_risk_in_development(ministry)
    assert classify(ministry.caio, assessment["id"]).status_code == 200
    incident = ministry.planner.post(
        f"/v1/projects/{project_id}/incidents",
        json={"occurred_at": datetime.now(UTC).isoformat(), "what_happened": "Wrong advice given to a citizen",
              "harm": "individuals", "severity": "high", "immediate_actions": "Answer corrected"},
    )  # fmt: skip
    assert incident.status_code == 201, incident.text
    wait_for(lambda: ministry.planner.get(f"/v1/projects/{project_id}/risk").json()["status"] == "stale")
    caught_up(stack)

    report = auditor(stack).get(report_url(ministry.code), params={"period": PERIOD}).json()
    system = report["systems"][0]
    assert (system["classification"], system["risk_status"], system["classification_stale"]) == ("high", "stale", True)
    assert report["by_stage_and_risk"]["development"] == {"classified_high": 1, "classified_not_high": 0, "other": 0}
    assert report["severe_incidents_in_period"] == 1 == system["severe_incidents_in_period"]
    assert report["stale_classifications"] == 1

    page = auditor(stack).get(
        f"{report_url(ministry.code)}.html", params={"period": PERIOD}, headers={"Accept-Language": "en"}
    )
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "high risk (stale: re-evaluation due)" in page.text
    assert "severe (high or critical): 1" in page.text
    positions = report["positions"]
    assert f"registry log position {positions['registry']} and risk log position {positions['risk']}" in page.text
    assert re.search(r"As of \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", page.text)
    assert "Usage rules for generative AI: none in force." in page.text
    # the page's default language is Japanese (issue 16, item 5): the same lines, translated
    japanese = auditor(stack).get(f"{report_url(ministry.code)}.html", params={"period": PERIOD}).text
    assert "高リスク（判断が古い: 再評価が必要）" in japanese and "うち重大（high・critical）: 1 件" in japanese
    assert "生成AIの利活用ルール: 施行中のものはありません。" in japanese


def issue(ministry: Ministry, effective_from: date, title: str, **body: Any) -> httpx.Response:
    return ministry.caio_registry.post(
        f"/v1/ministries/{ministry.code}/usage-rules",
        json={"title": title, "effective_from": effective_from.isoformat(), "reason": "CAIO's rules", **body},
    )


def test_a_second_version_of_the_usage_rules_supersedes_the_first_from_its_effective_date(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    today = datetime.now(UTC).date()
    first_day, second_day = today - timedelta(days=30), today + timedelta(days=30)
    first = issue(ministry, first_day, "Rules for staff use of generative AI", text="Staff check every output.")
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1
    assert first.json()["content_hash"] == "sha256:" + hashlib.sha256(b"Staff check every output.").hexdigest()
    document_hash = "sha256:" + hashlib.sha256(b"the published PDF").hexdigest()
    second = issue(
        ministry, second_day, "Rules, revised", reference="https://example.go.jp/rules-v2.pdf",
        reference_hash=document_hash,
    )  # fmt: skip
    assert second.status_code == 201, second.text
    assert (second.json()["version"], second.json()["content_hash"]) == (2, document_hash)
    assert second.headers["Location"] == f"/v1/ministries/{ministry.code}/usage-rules/2"

    listed = ministry.caio_registry.get(f"/v1/ministries/{ministry.code}/usage-rules").json()["items"]
    assert [item["version"] for item in listed] == [1, 2] and listed[0]["issued_by"] == ministry.caio_id
    assert (
        ministry.caio_registry.get(f"/v1/ministries/{ministry.code}/usage-rules/2").json()["title"] == "Rules, revised"
    )
    assert_problem(ministry.caio_registry.get(f"/v1/ministries/{ministry.code}/usage-rules/3"), 404)

    caught_up(stack)
    public = stack.client("reporting")  # no token at all
    url = f"/public/v1/ministries/{ministry.code}/usage-rules"
    now = public.get(url)
    assert now.status_code == 200, now.text
    assert now.json()["in_force"]["version"] == 1 and [v["version"] for v in now.json()["versions"]] == [1, 2]
    assert ministry.caio_id not in now.text and "issued_by" not in now.text
    day_before = f"{(second_day - timedelta(days=1)).isoformat()}T23:59:59{JST}"
    from_start = f"{second_day.isoformat()}T00:00:00{JST}"
    assert public.get(url, params={"as_of": day_before}).json()["in_force"]["version"] == 1
    assert public.get(url, params={"as_of": from_start}).json()["in_force"]["version"] == 2
    # As of a moment before the ministry was registered, the register knows neither it nor its rules.
    assert_problem(public.get(url, params={"as_of": f"{first_day.isoformat()}T00:00:00{JST}"}), 404)
    assert_problem(public.get(f"/public/v1/ministries/NOPE{ministry.code}/usage-rules"), 404)

    reporting = auditor(stack).get(f"/v1/ministries/{ministry.code}/usage-rules", params={"as_of": from_start})
    assert (
        reporting.json()["in_force"]["version"] == 2 and reporting.json()["in_force"]["issued_by"] == ministry.caio_id
    )
    later = auditor(stack).get(report_url(ministry.code), params={"period": PERIOD, "as_of": from_start}).json()
    earlier = auditor(stack).get(report_url(ministry.code), params={"period": PERIOD, "as_of": day_before}).json()
    assert (later["usage_rules"]["version"], earlier["usage_rules"]["version"]) == (2, 1)
    assert (
        auditor(stack).get(report_url(ministry.code), params={"period": PERIOD}).json()["usage_rules"]["version"] == 1
    )
    page = auditor(stack).get(
        f"{report_url(ministry.code)}.html",
        params={"period": PERIOD, "as_of": from_start},
        headers={"Accept-Language": "en"},
    )
    assert "in force: version 2, Rules, revised" in page.text


def test_usage_rules_are_the_designated_caios_and_refused_input_names_its_field(stack: ServiceStack) -> None:
    ministry = Ministry(stack)
    today = datetime.now(UTC).date()
    planner = ministry.planner_registry.post(
        f"/v1/ministries/{ministry.code}/usage-rules",
        json={"title": "Mine", "text": "x", "effective_from": today.isoformat(), "reason": "r"},
    )
    assert_problem(planner, 403)
    assert_problem(issue(ministry, today, "Both", text="x", reference="https://example.go.jp/r.pdf"), 422, "body.text")
    assert_problem(issue(ministry, today, "Neither"), 422, "body.text")
    assert_problem(
        issue(ministry, today, "No hash", reference="https://example.go.jp/r.pdf"), 422, "body.reference_hash"
    )
    assert_problem(
        issue(ministry, today, "Bad hash", reference="r", reference_hash="md5:abc"), 422, "body.reference_hash"
    )
    assert issue(ministry, today, "First", text="Staff check every output.").status_code == 201
    assert_problem(issue(ministry, today - timedelta(days=1), "Backdated", text="y"), 422, "body.effective_from")
    listed = ministry.caio_registry.get(f"/v1/ministries/{ministry.code}/usage-rules").json()["items"]
    assert [item["title"] for item in listed] == ["First"]  # nothing refused entered the log

    root = stack.client("registry", stack.token("root", ["admin"]))
    replaced = root.put(
        f"/v1/ministries/{ministry.code}/caio",
        headers=current(root, f"/v1/ministries/{ministry.code}"),
        json={"officer_id": "caio-successor", "name": "Successor", "reason": "rotation"},
    )
    assert replaced.status_code == 200, replaced.text
    assert_problem(issue(ministry, today, "Too late", text="z"), 403)
