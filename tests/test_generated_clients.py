"""Clients generated from the services' OpenAPI documents run the whole high-risk path, and nothing else does.

What a ministry integrator does: fetch each running service's ``/openapi.json``, generate a Python client with
``openapi-python-client`` into a temporary folder (never committed), import it, and drive the guideline's
path through it: ministry, CAIO, project, risk evaluation, classification, Board submission, advice,
decision, operation, the high-risk register, and verification of both logs; then the records an oversight
body takes away: the audit export (downloaded, then verified offline with the public key), the CSV inventory,
the periodic report's printable page, the public record and the project's rebuilt state. Every request below
goes through a generated function with generated models; if the document and the code disagree, this fails.

The generator runs as the README says: ``clients/python/openapi-python-client.yaml`` (NDJSON read as text)
and ruff on ``PATH`` (it formats its output with ruff).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import time
import typing
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support import PROJECT_ROOT, ServiceStack, new_ministry_code, project_body
from tests.support.scenarios import HIGH_RISK, RULESET, complete_submission

SERVICES = ("registry", "risk", "reporting")
GENERATOR = Path(sys.executable).parent / "openapi-python-client"
GENERATOR_CONFIG = PROJECT_ROOT / "clients" / "python" / "openapi-python-client.yaml"
AIGOV = Path(sys.executable).parent / "aigov"


@pytest.fixture(scope="module")
def generated(stack: ServiceStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Generate one client package per service from its live document; yield the package names."""
    folder = tmp_path_factory.mktemp("clients")
    suffix = uuid.uuid4().hex[:8]  # fresh package names: both backends' modules may not share a cache
    packages = {}
    for service in SERVICES:
        package = f"aigov_{service}_client_{suffix}"
        result = subprocess.run(
            [
                str(GENERATOR),
                "generate",
                "--url",
                stack.url(service) + "/openapi.json",
                "--meta",
                "none",
                "--output-path",
                str(folder / package),
                "--config",
                str(GENERATOR_CONFIG),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ.get('PATH', '')}"},
        )
        assert (folder / package / "client.py").exists(), result.stdout + result.stderr
        packages[service] = package
    sys.path.insert(0, str(folder))
    try:
        yield packages
    finally:
        sys.path.remove(str(folder))


class Generated:
    """Calls one service's generated operations with the identity of one caller."""

    def __init__(self, stack: ServiceStack, package: str, service: str, token: str):
        self.package = package
        client_module = importlib.import_module(f"{package}.client")
        self.client = client_module.AuthenticatedClient(
            base_url=stack.url(service), token=token, raise_on_unexpected_status=True
        )

    def call(self, tag: str, operation: str, **arguments: Any) -> Any:
        """``sync_detailed`` of the operation; plain dict bodies become the generated body model first."""
        module = importlib.import_module(f"{self.package}.api.{tag}.{operation}")
        if isinstance(arguments.get("body"), dict):
            arguments["body"] = body_model(module).from_dict(arguments["body"])
        return module.sync_detailed(client=self.client, **arguments)


def body_model(module: ModuleType) -> Any:
    hint = typing.get_type_hints(module.sync_detailed)["body"]
    candidates = [option for option in typing.get_args(hint) or (hint,) if hasattr(option, "from_dict")]
    assert candidates, f"{module.__name__} has no body model"
    return candidates[0]


def until(attempt: Any, accept: Any, timeout: float = 15.0) -> Any:
    """Repeat a generated call until the followers have caught up, e.g. a designation reaching risk."""
    deadline = time.monotonic() + timeout
    while True:
        response = attempt()
        if accept(response) or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


def seen(resource: Any) -> str:
    """The If-Match for changing a resource the generated client last read or wrote: its version's ETag."""
    return f'"{resource.version}"'


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content[:500]
    return response.parsed


def test_the_high_risk_path_through_generated_clients_only(stack: ServiceStack, generated: dict[str, str]) -> None:
    code = new_ministry_code()
    caio_id = f"caio-{code.lower()}"

    def as_(service: str, sub: str, roles: list[str], ministry: str | None = None) -> Generated:
        return Generated(stack, generated[service], service, stack.token(sub, roles, ministry))

    admin = as_("registry", "root", ["admin"])
    planner, planner_risk = as_("registry", "alice", ["planner"], code), as_("risk", "alice", ["planner"], code)
    caio, caio_risk = as_("registry", caio_id, ["caio"], code), as_("risk", caio_id, ["caio"], code)
    board = as_("risk", "bob", ["board_member"])
    auditor_registry, auditor_risk, auditor_reporting = (as_(service, "audrey", ["auditor"]) for service in SERVICES)

    ministry = ok(
        admin.call(
            "ministries",
            "create_ministry",
            body={"code": code, "name": f"Ministry {code}"},
            idempotency_key=str(uuid.uuid4()),
        ),
        201,
    )
    ok(
        admin.call(
            "ministries",
            "designate_caio",
            code=code,
            if_match=seen(ministry),
            body={"officer_id": caio_id, "name": "Chie Sato", "reason": "appointed"},
        )
    )
    project = ok(planner.call("projects", "register_project", body=project_body(code, users="public")), 201)
    project_id = uuid.UUID(str(project.id))
    for stage in ("procurement", "development"):
        if stage == "development":  # the gate before development: both check sheets answered in full
            sheets = {
                f"{kind}_sheet": {
                    "sheet_id": sheet_id,
                    "version": 1,
                    "answers": [
                        {"item": item.id, "answer": "met", "note": "in the specification"}
                        for item in ok(
                            planner.call("check_sheets", "get_check_sheet", sheet_id=sheet_id, version=1)
                        ).content.items
                    ],
                }
                for kind, sheet_id in (("procurement", "jp-procurement-2.0"), ("contract", "jp-contract-2.0"))
            }
            project = ok(
                planner.call(
                    "projects",
                    "record_procurement",
                    project_id=project_id,
                    if_match=seen(project),
                    body={"vendor": "Example Cloud KK", "contract_reference": "C-2026-001", **sheets},
                )
            )
        project = ok(
            planner.call(
                "projects",
                "transition_project",
                project_id=project_id,
                if_match=seen(project),
                body={"to": stage, "reason": f"move to {stage}"},
            )
        )

    until(lambda: planner_risk.call("risk", "get_project_risk", project_id=project_id), lambda r: r.status_code == 200)
    assessment = ok(
        planner_risk.call("assessments", "open_assessment", project_id=project_id, body={"ruleset_id": RULESET}), 201
    )
    assessment_id = uuid.UUID(str(assessment.id))
    answered = ok(
        planner_risk.call(
            "assessments", "record_answers", assessment_id=assessment_id, if_match=seen(assessment), body=HIGH_RISK
        )
    )
    screened = ok(
        planner_risk.call("assessments", "submit_assessment", assessment_id=assessment_id, if_match=seen(answered))
    )
    assert screened.to_dict()["screening"]["likely_high_risk"] is True
    classify = {"classification": "high", "reasons": "public-facing answers"}
    ok(
        until(
            lambda: caio_risk.call(
                "assessments",
                "classify_assessment",
                assessment_id=assessment_id,
                if_match=seen(screened),
                body=classify,
            ),
            lambda r: r.status_code != 403,
        )
    )

    submission = ok(
        planner_risk.call(
            "board", "draft_board_submission", project_id=project_id, body=complete_submission(str(assessment_id))
        ),
        201,
    )
    submission_id = uuid.UUID(str(submission.id))
    submission = ok(
        caio_risk.call(
            "board",
            "submit_board_submission",
            project_id=project_id,
            submission_id=submission_id,
            if_match=seen(submission),
        )
    )
    queue = ok(board.call("board", "get_board_queue"))
    assert str(submission_id) in {str(item.id) for item in queue.items}
    advised = ok(
        board.call(
            "board",
            "record_board_advice",
            submission_id=submission_id,
            if_match=seen(submission),
            body={"opinion": "no_concerns", "text": "Mitigations are adequate."},
        )
    )
    ok(
        caio_risk.call(
            "board",
            "record_caio_decision",
            submission_id=submission_id,
            if_match=seen(advised),
            body={"decision": "proceed", "reasons": "Advice received; mitigations in place."},
        )
    )

    operation = {"to": "operation", "reason": "the Board advised and the CAIO decided"}
    operating = ok(
        until(
            lambda: caio.call(
                "projects", "transition_project", project_id=project_id, if_match=seen(project), body=operation
            ),
            lambda r: r.status_code == 200,
        )
    )
    assert operating.stage == "operation"

    def in_register() -> Any:
        return auditor_reporting.call("reports", "get_high_risk_register")

    register = ok(
        until(
            in_register,
            lambda r: (
                r.status_code == 200
                and any(
                    str(item.project_id) == str(project_id) and item.stage == "operation" for item in r.parsed.items
                )
            ),
        )
    )
    entry = next(item.to_dict() for item in register.items if str(item.project_id) == str(project_id))
    assert entry["classification"] == "high" and entry["decision"]["decision"] == "proceed"
    timeline = ok(auditor_reporting.call("audit", "get_project_timeline", project_id=project_id))
    assert {"ProjectRegistered", "AssessmentClassified", "BoardAdviceRecorded", "CaioDecisionRecorded"} <= {
        event.to_dict()["type"] for event in timeline.events
    }
    for client in (auditor_registry, auditor_risk):
        verification = ok(client.call("log", "verify_log"))
        assert verification.ok and verification.checked > 0
    the_records_an_oversight_body_takes_away(auditor_reporting, code, project_id, stack.var_dir)


def the_records_an_oversight_body_takes_away(
    auditor: Generated, code: str, project_id: uuid.UUID, folder: Path
) -> None:
    """Export, CSV, printable report, public record and rebuilt state, each through its generated function."""
    export, key = folder / "export.ndjson", folder / "aigov.pem"
    export.write_text(ok(auditor.call("audit", "export_audit_log")), encoding="utf-8")
    key.write_text(ok(auditor.call("audit", "get_public_key")).public_key_pem, encoding="utf-8")
    verified = subprocess.run(
        [str(AIGOV), "audit", "verify", str(export), "--public-key", str(key)], capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout.splitlines()[-1])["signatures_checked"] is True

    inventory_csv = ok(auditor.call("reports", "get_inventory_csv", ministry=code))
    header, *rows = inventory_csv.splitlines()
    assert header.startswith("project_id,ministry,title,stage") and [row.split(",")[0] for row in rows] == [
        str(project_id)
    ]
    period = f"{time.gmtime().tm_year}H{1 if time.gmtime().tm_mon <= 6 else 2}"
    page = ok(auditor.call("reports", "get_periodic_report_html", code=code, period=period))
    assert page.lstrip().lower().startswith("<!doctype html") and "<svg" in page
    report = ok(auditor.call("reports", "get_periodic_report", code=code, period=period))
    assert report.by_stage_and_risk.operation.classified_high == 1

    record = ok(auditor.call("reports", "get_public_record", project_id=project_id))
    assert record.tier_2.risks.classification == "high" and record.tier_2.risks.decision == "proceed"
    state = ok(auditor.call("audit", "get_project_state", project_id=project_id))
    assert state.project.registry.stage == "operation" and state.project.board.decision.decision == "proceed"
