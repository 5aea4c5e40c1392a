"""``aigov log verify --derived``: the tables that authorize or gate actions, rebuilt from the logs, name every row
an intruder edited (issue 15, item 5), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from sqlalchemy import text

from services.registry import index
from services.registry.application import RegistryApplication
from services.registry.contract import Stage
from services.registry.followers import RiskPolicy
from services.risk.application import RiskApplication
from services.risk.followers import RegistryPolicy
from shared.database import create_engine
from shared.follower import Follower
from tests.support import PROJECT_ROOT, project_body
from tests.transparency_support import ADMIN, PLANNER


def followed_logs(url: str) -> tuple[RegistryApplication, RiskApplication, str]:
    registry, risk = RegistryApplication(url), RiskApplication(url)
    ministry = registry.establish_ministry("MIC", "Internal Affairs", ADMIN)
    registry.designate_caio("MIC", "mic-caio-001", "Sato Hanako", ADMIN)
    details = project_body("MIC")
    details.pop("ministry")
    registry.register_project("MIC", details, PLANNER)
    Follower(registry, risk.recorder, RegistryPolicy(risk)).catch_up()
    Follower(risk, registry.factory.tracking_recorder(), RiskPolicy(registry)).catch_up()
    return registry, risk, str(ministry.id)


def verify_derived(url: str) -> tuple[int, dict]:
    result = subprocess.run(
        [sys.executable, "-m", "aigov.cli", "log", "verify", "--derived", "--database-url", url],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
        env={**os.environ, "AIGOV_WITNESSES": ""},
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    return result.returncode, next(line["derived"] for line in lines if "derived" in line)


def test_untouched_derived_tables_match_their_rebuild(database_url: str) -> None:
    followed_logs(database_url)
    code, derived = verify_derived(database_url)
    assert code == 0 and derived == {"ok": True, "differences": []}


def test_an_edited_designation_and_an_opened_gate_are_named(database_url: str) -> None:
    _, _, ministry_id = followed_logs(database_url)
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE risk_ministry_caios SET caio_officer_id = 'intruder'"))
            connection.execute(
                text("UPDATE registry_risk_gate SET classification = 'not_high', classification_current = :t"),
                {"t": True},
            )
            gate_key = str(connection.execute(text("SELECT project_id FROM registry_risk_gate")).scalar_one())
    finally:
        engine.dispose()
    code, derived = verify_derived(database_url)
    assert code == 1 and not derived["ok"]
    named = {(d["table"], d["column"], str(d["stored"]), str(d["rebuilt"])) for d in derived["differences"]}
    assert ("risk_ministry_caios", "caio_officer_id", "intruder", "mic-caio-001") in named
    assert ("registry_risk_gate", "classification", "not_high", "None") in named
    assert ("registry_risk_gate", "classification_current", "True", "False") in named
    keys = {d["key"] for d in derived["differences"]}
    assert len(keys) == 2 and ministry_id in keys, keys
    assert any(key.replace("-", "") == gate_key.replace("-", "") for key in keys), (keys, gate_key)


def test_a_model_change_notice_is_rebuilt_into_the_gate_as_a_material_change(database_url: str) -> None:
    """A vendor's notice marks the gate's last material position in its transaction; the rebuild agrees."""
    registry, risk, _ = followed_logs(database_url)
    project_id = registry.list_projects("MIC", None, 1, None)[0]["project_id"]
    registry.transition_project(project_id, Stage.procurement, PLANNER)
    notice = {"provider": "P", "model": "m", "model_version": "2", "effective_date": "2027-01-01", "changes": "new"}
    registry.notice_model_change(project_id, notice, PLANNER)
    position = registry.head_position()
    with registry.read_session() as session:
        assert index.gate_state(session, project_id).last_material_position == position  # type: ignore[union-attr]
    code, derived = verify_derived(database_url)
    assert code == 0 and derived == {"ok": True, "differences": []}
