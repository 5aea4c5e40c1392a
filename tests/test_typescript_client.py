"""A TypeScript integrator's client, whole: types from openapi-typescript, calls with openapi-fetch (issue 17).

``clients/typescript`` pins openapi-typescript, openapi-fetch and TypeScript in its package.json and lockfile.
This test installs them (``npm ci``), generates the types from the committed documents (``docs/openapi``),
type-checks the scenario with ``tsc --strict`` (a JSON-or-CSV response typed ``{}`` fails here), and runs it
under Node against the three services: the high-risk path, the reports and the audit export, which is then
verified offline. It needs Node and npm, so ``make test-clients`` runs it (marker ``typescript``), not
``make test``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.support import PROJECT_ROOT, ServiceStack, new_ministry_code, project_body
from tests.support.scenarios import HIGH_RISK, RULESET, complete_submission

pytestmark = pytest.mark.typescript
FOLDER = PROJECT_ROOT / "clients" / "typescript"
AIGOV = Path(sys.executable).parent / "aigov"


def run(*command: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=FOLDER, capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


@pytest.fixture(scope="session")
def scenario() -> Path:
    """The scenario compiled: dependencies installed as locked, types generated, ``tsc --strict`` passed."""
    npm = shutil.which("npm")
    assert npm and shutil.which("node"), "Node and npm are required: `make test-clients` installs them (nodejs, npm)"
    run(npm, "ci", "--no-audit", "--no-fund")
    run(npm, "run", "generate")
    run(str(FOLDER / "node_modules" / ".bin" / "tsc"), "--strict", "-p", "tsconfig.json")
    return FOLDER / "dist" / "src" / "scenario.js"


def test_the_typescript_scenario_type_checks_and_runs_the_high_risk_path_and_the_export(
    stack: ServiceStack, scenario: Path, tmp_path: Path
) -> None:
    code = new_ministry_code()
    caio_id = f"caio-{code.lower()}"
    tokens = {
        "admin": stack.token("root", ["admin"]),
        "planner": stack.token("alice", ["planner"], code),
        "caio": stack.token(caio_id, ["caio"], code),
        "board_member": stack.token("bob", ["board_member"]),
        "auditor": stack.token("audrey", ["auditor"]),
    }
    submission = complete_submission(str(uuid.uuid4()))
    submission.pop("assessment_id")
    now = time.gmtime()
    export, key = tmp_path / "export.ndjson", tmp_path / "aigov.pem"
    given = {
        "urls": {service: stack.url(service) for service in ("registry", "risk", "reporting")},
        "tokens": tokens,
        "ministry": code,
        "caio_id": caio_id,
        "ruleset_id": RULESET,
        "project": project_body(code, users="public"),
        "answers": HIGH_RISK,
        "submission_template": submission,
        "export_path": str(export),
        "key_path": str(key),
        "period": f"{now.tm_year}H{1 if now.tm_mon <= 6 else 2}",
    }
    (tmp_path / "scenario.json").write_text(json.dumps(given), encoding="utf-8")
    ran = subprocess.run(
        [shutil.which("node") or "node", str(scenario)],
        env={"AIGOV_SCENARIO": str(tmp_path / "scenario.json"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert json.loads(ran.stdout.splitlines()[-1])["ok"] is True

    verified = subprocess.run(
        [str(AIGOV), "audit", "verify", str(export), "--public-key", str(key)], capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout.splitlines()[-1])["signatures_checked"] is True
