"""Reporting end to end: a scripted history over two ministries, replay as of five moments, exports that
verify and replay offline, and every kind of tampering detected."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.browser import find_chromium
from tests.support import PROJECT_ROOT, ServiceStack, current, wait_for
from tests.support.scenarios import (
    HIGH_RISK,
    LOW_RISK,
    Ministry,
    assert_problem,
    assess,
    auditor,
    caught_up,
    cli,
    complete_submission,
)


def snapshot(stack: ServiceStack) -> dict[str, Any]:
    """The live reports right now (caught up), and the moment they describe."""
    caught_up(stack)
    time.sleep(0.01)
    moment = datetime.now(UTC)
    client = auditor(stack)
    live = {
        name: client.get(path).json()
        for name, path in (
            ("inventory", "/v1/inventory"),
            ("register", "/v1/high-risk-register"),
            ("pending", "/v1/pending"),
        )
    }
    return {"at": moment, "live": live}


@pytest.fixture(scope="module")
def history(stack: ServiceStack) -> dict[str, Any]:
    """Two ministries; a CAIO replaced mid-way; one high-risk project through the Board; one material amendment."""
    moments = []
    a, b = Ministry(stack), Ministry(stack)
    high = a.register(users="public", title="Citizen enquiries chatbot")
    moments.append(snapshot(stack))  # 1: registered, evaluation due

    assessment = assess(a, high, HIGH_RISK)
    assert (
        a.caio.post(
            f"/v1/assessments/{assessment['id']}/classification",
            headers=current(a.caio, f"/v1/assessments/{assessment['id']}"),
            json={"classification": "high", "reasons": "public facing, no staff judgment"},
        ).status_code
        == 200
    )
    low = b.register(title="Internal drafting aid")
    low_assessment = assess(b, low, LOW_RISK)
    assert (
        b.caio.post(
            f"/v1/assessments/{low_assessment['id']}/classification",
            headers=current(b.caio, f"/v1/assessments/{low_assessment['id']}"),
            json={"classification": "not_high", "reasons": "staff review every draft"},
        ).status_code
        == 200
    )
    moments.append(snapshot(stack))  # 2: both classified

    submission = a.planner.post(
        f"/v1/projects/{high}/board-submissions", json=complete_submission(assessment["id"])
    ).json()["id"]
    assert (
        a.caio.post(
            f"/v1/projects/{high}/board-submissions/{submission}/submit",
            headers=current(a.caio, f"/v1/board-submissions/{submission}"),
        ).status_code
        == 200
    )
    root = stack.client("registry", stack.token("root", ["admin"]))
    new_caio = f"caio2-{a.code.lower()}"
    assert (
        root.put(
            f"/v1/ministries/{a.code}/caio",
            headers=current(root, f"/v1/ministries/{a.code}"),
            json={"officer_id": new_caio, "name": "Kenji Mori", "reason": "cabinet reshuffle"},
        ).status_code
        == 200
    )
    moments.append(snapshot(stack))  # 3: with the Board, CAIO replaced

    conditions = ["Publish accuracy quarterly"]
    assert (
        a.board.post(
            f"/v1/board-submissions/{submission}/advice",
            headers=current(a.board, f"/v1/board-submissions/{submission}"),
            json={"opinion": "advice_with_conditions", "text": "Proceed with care", "conditions": conditions},
        ).status_code
        == 200
    )
    a.caio = stack.client("risk", stack.token(new_caio, ["caio"], a.code))
    wait_for(lambda: a.caio_known())
    decided = a.caio.post(
        f"/v1/board-submissions/{submission}/decision",
        headers=current(a.caio, f"/v1/board-submissions/{submission}"),
        json={
            "decision": "proceed_with_conditions",
            "reasons": "accepted",
            "condition_responses": [{"condition": conditions[0], "response": "accepted"}],
        },
    )
    assert decided.status_code == 200, decided.text
    moments.append(snapshot(stack))  # 4: decided

    etag = b.planner_registry.get(f"/v1/projects/{low}").headers["ETag"]
    assert (
        b.planner_registry.patch(
            f"/v1/projects/{low}",
            json={"reason": "now also answers citizens", "users": "public"},
            headers={"If-Match": etag},
        ).status_code
        == 200
    )
    moments.append(snapshot(stack))  # 5: material amendment made the classification stale
    return {
        "a": a,
        "b": b,
        "high": high,
        "low": low,
        "submission": submission,
        "new_caio": new_caio,
        "moments": moments,
    }


def test_the_reports_tell_the_scripted_history(stack: ServiceStack, history: dict[str, Any]) -> None:
    a, b, high, low = history["a"], history["b"], history["high"], history["low"]
    final = history["moments"][-1]["live"]
    items = {item["project_id"]: item for item in final["inventory"]["items"] if item["ministry"] in (a.code, b.code)}
    assert items[high]["risk_status"] == "classified_high" and items[high]["board_status"] == "decided"
    assert items[high]["caio"] == {"officer_id": history["new_caio"], "name": "Kenji Mori"}
    assert items[low]["risk_status"] == "stale" and items[low]["classification"] == "not_high"
    register = {item["project_id"]: item for item in final["register"]["items"]}
    assert (
        register[high]["advice"]["opinion"] == "advice_with_conditions"
        and register[high]["decision"]["decision"] == "proceed_with_conditions"
    )
    assert register[high]["decision"]["by"] == history["new_caio"] and low not in register
    pending = [item for item in final["pending"]["items"] if item["project_id"] in (high, low)]
    assert pending == [
        {
            "project_id": low,
            "title": "Internal drafting aid",
            "project_ministry": b.code,
            "what": "re-evaluation due (classification stale)",
            "role": "planner",
            "ministry": b.code,
        }
    ]

    first = history["moments"][0]["live"]
    before = {item["project_id"]: item for item in first["inventory"]["items"]}
    assert before[high]["caio"]["name"] == "Chie Sato" and before[high]["risk_status"] == "due"
    only_planner = auditor(stack).get("/v1/pending", params={"ministry": a.code, "role": "caio"}).json()
    assert only_planner["count"] == 0


def test_as_of_each_moment_answers_what_the_live_reports_answered_then(
    stack: ServiceStack, history: dict[str, Any]
) -> None:
    client = auditor(stack)
    for moment in history["moments"]:
        at = moment["at"].isoformat()
        for name, path in (
            ("inventory", "/v1/inventory"),
            ("register", "/v1/high-risk-register"),
            ("pending", "/v1/pending"),
        ):
            replayed = client.get(path, params={"as_of": at}).json()
            assert replayed["as_of"] == at
            assert {**replayed, "as_of": None} == moment["live"][name], (name, at)


def test_project_state_and_timeline_as_of(stack: ServiceStack, history: dict[str, Any]) -> None:
    client, high = auditor(stack), history["high"]
    timeline = client.get(f"/v1/audit/projects/{high}/timeline").json()["events"]
    types = [event["type"] for event in timeline]
    assert types[0] == "ProjectRegistered" and types.index("RiskEvaluationBecameDue") < types.index(
        "AssessmentOpened"
    ) < types.index("ProjectClassified") < types.index("CaioDecisionRecorded")
    assert {event["service"] for event in timeline} == {"registry", "risk"}
    assert all(event["hash"] and event["meta"]["actor_role"] and "position" in event for event in timeline)
    second = history["moments"][1]["at"].isoformat()
    state = client.get(f"/v1/audit/projects/{high}/state", params={"as_of": second}).json()["project"]
    assert state["risk"]["classification"] == "high" and state["board"]["status"] == "submission_required"
    assert state["caio"]["name"] == "Chie Sato"
    assert (
        client.get(f"/v1/audit/projects/{high}/state", params={"as_of": "2020-01-01T00:00:00+00:00"}).status_code == 404
    )


@pytest.mark.parametrize("as_of", ["1700000000", "2026-07-01", "2026-07-01T09:00:00"])
def test_an_as_of_without_date_time_and_offset_is_refused_naming_it(stack: ServiceStack, as_of: str) -> None:
    for path in ("/v1/inventory", "/v1/high-risk-register", "/v1/pending"):
        assert_problem(auditor(stack).get(path, params={"as_of": as_of}), 422, "query.as_of")


def test_export_verifies_and_replays_offline_to_identical_json(
    stack: ServiceStack, history: dict[str, Any], tmp_path: Path
) -> None:
    client = auditor(stack)
    caught_up(stack)
    export = tmp_path / "export.ndjson"
    export.write_bytes(client.get("/v1/audit/export").content)
    key = tmp_path / "public.pem"
    key.write_text(client.get("/v1/audit/public-key").json()["public_key_pem"])
    verified = cli("audit", "verify", str(export), "--public-key", str(key))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["ok"] is True

    live = client.get("/v1/inventory").json()
    offline = json.loads(cli("audit", "report", str(export)).stdout)
    assert offline["items"] == live["items"] and offline["positions"] == live["positions"]
    third = history["moments"][2]
    at_third = json.loads(cli("audit", "report", str(export), "--as-of", third["at"].isoformat()).stdout)
    assert at_third["items"] == third["live"]["inventory"]["items"]

    replayed = json.loads(cli("audit", "replay", str(export), "--project", history["high"]).stdout)
    online = client.get(f"/v1/audit/projects/{history['high']}/state").json()["project"]
    assert replayed["state"] == online
    assert [event["position"] for event in replayed["timeline"]] == [
        event["position"] for event in client.get(f"/v1/audit/projects/{history['high']}/timeline").json()["events"]
    ]

    lines = export.read_text().splitlines()
    events = [index for index, line in enumerate(lines) if json.loads(line)["kind"] == "event"]

    def verdict(changed: list[str]) -> dict[str, Any]:
        tampered = tmp_path / "tampered.ndjson"
        tampered.write_text("\n".join(changed) + "\n")
        result = cli("audit", "verify", str(tampered), "--public-key", str(key))
        assert result.returncode == 1, result.stdout
        return json.loads(result.stdout)

    truncated = verdict(lines[: events[-1]])
    assert truncated["ok"] is False and "checkpoint" in truncated["problem"]

    reordered = list(lines)
    reordered[events[3]], reordered[events[4]] = reordered[events[4]], reordered[events[3]]
    moved = verdict(reordered)
    assert (
        moved["ok"] is False and moved["position"] == json.loads(lines[events[4]])["position"]
    )  # the first line out of place

    edited = list(lines)
    record = json.loads(edited[events[2]])
    record["state"] = (
        record["state"].replace("Citizen", "Resident")
        if "Citizen" in record["state"]
        else record["state"].replace('"', "'", 1)
    )
    edited[events[2]] = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    changed = verdict(edited)
    assert changed["position"] == record["position"] and "do not match" in changed["problem"]

    forged = list(lines)
    checkpoint = json.loads(forged[-1])
    checkpoint["head_position"] += 1
    forged[-1] = json.dumps(checkpoint)
    assert "signature" in verdict(forged)["problem"]


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def test_the_periodic_report_in_json_csv_and_a_printable_page_with_its_chart(
    stack: ServiceStack, history: dict[str, Any], tmp_path: Path
) -> None:
    import shutil

    from PIL import Image

    client, code = auditor(stack), history["a"].code
    period = f"{datetime.now(UTC).year}H{1 if datetime.now(UTC).month <= 6 else 2}"
    report = client.get(f"/v1/ministries/{code}/periodic-report", params={"period": period}).json()
    assert [system["project_id"] for system in report["systems"]] == [history["high"]]
    assert report["by_stage_and_risk"]["planning"]["classified_high"] == 1 and report["caio"]["name"] == "Kenji Mori"
    csv_text = client.get(
        f"/v1/ministries/{code}/periodic-report", params={"period": period}, headers={"Accept": "text/csv"}
    ).text
    assert csv_text.splitlines()[0].startswith("project_id,title,stage") and history["high"] in csv_text
    assert client.get(f"/v1/ministries/{code}/periodic-report", params={"period": "2026Q3"}).status_code == 422

    page = client.get(
        f"/v1/ministries/{code}/periodic-report",
        params={"period": period},
        headers={"Accept": "text/html", "Accept-Language": "ja"},
    )
    assert page.headers["content-type"].startswith("text/html") and "<svg" in page.text
    assert "<html lang=\"ja\">" in page.text and "生成AIシステム 定期報告" in page.text  # the Japanese page is shot
    chromium = find_chromium()
    assert chromium, "headless Chromium is required (`make test` installs Debian's chromium, see tests/browser.py)"
    html_file, shot = tmp_path / "report.html", tmp_path / "report.png"
    html_file.write_text(page.text, encoding="utf-8")
    subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=900,1000",
            f"--screenshot={shot}",
            html_file.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    image = Image.open(shot).convert("RGB")
    assert image.size == (900, 1000)
    counts = {colour: count for count, colour in image.getcolors(maxcolors=1 << 24) or []}
    high_risk_red = counts.get((0xC0, 0x39, 0x2B), 0)
    assert high_risk_red > 500, "the chart's high-risk bar is not on the page"
    (PROJECT_ROOT / "var").mkdir(exist_ok=True)
    shutil.copy(shot, PROJECT_ROOT / "var" / f"periodic-report-{history['a'].code}.png")


def test_the_public_record_has_both_tiers(stack: ServiceStack, history: dict[str, Any]) -> None:
    record = auditor(stack).get(f"/v1/projects/{history['high']}/public-record").json()
    assert (
        record["tier_1"]["name"] == "Citizen enquiries chatbot"
        and "members of the public" in record["tier_1"]["summary"]
    )
    assert record["tier_2"]["risks"] == {
        "status": "classified_high",
        "classification": "high",
        "advisory_board": "decided",
        "board_advice": "advice_with_conditions",
        "decision": "proceed_with_conditions",
    }
    assert record["tier_2"]["owner"]["chief_ai_officer"]["name"] == "Kenji Mori"


def test_envelopes_read_from_the_stored_json_equal_the_decoded_events(
    stack: ServiceStack, history: dict[str, Any]
) -> None:
    """The projection folds envelopes parsed straight from the stored JSON (shared.logrows); for every event of
    both logs of the scripted history they equal decoding the event into a domain object and back."""
    from services.registry.application import RegistryApplication
    from services.risk.application import RiskApplication
    from shared import logrows

    for app in (RegistryApplication(stack.database_url), RiskApplication(stack.database_url)):
        decoded = [entry.as_dict() for entry in app.read_log(0, 10_000)]
        assert len({entry["type"] for entry in decoded}) >= 4  # every kind the scripted history records
        assert list(logrows.iter_envelopes(app)) == decoded
        app.close()
