"""The README stays true: its settings, commands, make targets, printed token commands and its Python example.

Why: a newcomer and an integrator follow the README literally; every command, variable and code sample in it
must exist and work as written (issue 17 found several that did not).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
from typer.testing import CliRunner

from aigov.cli import TOKEN_COMMANDS, app
from shared.settings import Settings
from tests.support import PROJECT_ROOT, ServiceStack, new_ministry_code

README = PROJECT_ROOT / "README.md"
TEXT = README.read_text(encoding="utf-8")
#: Variables read by the test tooling, not by the services: each must occur in a test module or tests' support.
TEST_SETTINGS = {"AIGOV_TEST_POSTGRES_URL", "AIGOV_CHROMIUM", "AIGOV_TEST_RACES", "AIGOV_MODEL_EXAMPLES"}
TEST_SETTINGS |= {"AIGOV_MODEL_STEPS"}
#: Variables the README's Python example reads.
EXAMPLE_SETTINGS = {"AIGOV_REGISTRY_URL", "AIGOV_TOKEN", "AIGOV_MINISTRY"}
#: Variables the container image reads (which service it runs).
IMAGE_SETTINGS = {"AIGOV_SERVICE"}
GENERATE = (
    'PATH="$PWD/.venv/bin:$PATH" openapi-python-client generate --path docs/openapi/registry.json --meta none \\\n'
    "    --output-path aigov_registry_client --config clients/python/openapi-python-client.yaml"
)


def section(title: str) -> str:
    return TEXT.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def python_example() -> str:
    """The one Python block of the Integrating section."""
    blocks = re.findall(r"```python\n(.*?)```", section("Integrating"), flags=re.DOTALL)
    assert len(blocks) == 1, "the Integrating section has one Python example"
    return blocks[0]


def test_every_setting_is_in_the_readme_settings_table() -> None:
    table = section("Settings")
    missing = [f"AIGOV_{name.upper()}" for name in Settings.model_fields if f"`AIGOV_{name.upper()}`" not in table]
    assert not missing, f"add these to the README's settings table: {missing}"


def test_every_variable_the_readme_names_is_read_by_something() -> None:
    known = {f"AIGOV_{name.upper()}" for name in Settings.model_fields} | TEST_SETTINGS | EXAMPLE_SETTINGS
    image = (PROJECT_ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert all(name in image for name in IMAGE_SETTINGS)
    known |= IMAGE_SETTINGS
    sources = [path for path in (PROJECT_ROOT / "tests").rglob("*.py") if path.name != "test_readme.py"]
    tests = "".join(path.read_text(encoding="utf-8") for path in sources)
    assert [name for name in TEST_SETTINGS if name not in tests] == []
    named = set(re.findall(r"\bAIGOV_[A-Z_]+[A-Z]\b", TEXT))
    assert named - known == set(), f"the README names variables nothing reads: {sorted(named - known)}"


def test_every_make_target_the_readme_names_exists() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.MULTILINE))
    named = set(re.findall(r"`make ([a-z][a-z-]*)", TEXT)) | set(re.findall(r"^make ([a-z][a-z-]*)", TEXT, re.M))
    assert named and named <= targets, f"the README names make targets the Makefile lacks: {sorted(named - targets)}"


def test_every_aigov_command_the_readme_names_exists() -> None:
    commands = set(re.findall(r"\.venv/bin/aigov ((?:[a-z]+)(?: [a-z]+)?)", TEXT))
    assert {"token", "audit verify", "openapi export"} <= commands
    runner = CliRunner()
    for command in sorted(commands):
        result = runner.invoke(app, [*command.split(), "--help"])
        assert result.exit_code == 0, f"`aigov {command}` in the README is not a command: {result.output}"


def test_make_run_prints_the_token_commands_the_readme_shows() -> None:
    shown = section("The two commands")
    for command in TOKEN_COMMANDS:
        assert command in shown, f"the README does not show what `make run` prints: {command}"


def test_the_embedded_database_lives_in_the_var_dir(tmp_path: Path) -> None:
    assert Settings(var_dir=tmp_path).database_url == f"sqlite:///{tmp_path / 'aigov.sqlite3'}"
    assert Settings(var_dir=tmp_path, database_url="sqlite:///elsewhere.db").database_url == "sqlite:///elsewhere.db"


def test_the_python_example_runs_as_written_against_the_services(stack: ServiceStack, tmp_path: Path) -> None:
    """Generate the client the way the README says, then run the README's example unchanged."""
    assert GENERATE in section("Integrating")
    generator = Path(sys.executable).parent / "openapi-python-client"
    generated = subprocess.run(
        [str(generator), "generate", "--path", str(PROJECT_ROOT / "docs" / "openapi" / "registry.json"), "--meta",
         "none", "--output-path", str(tmp_path / "aigov_registry_client"), "--config",
         str(PROJECT_ROOT / "clients" / "python" / "openapi-python-client.yaml")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**os.environ, "PATH": f"{generator.parent}{os.pathsep}{os.environ.get('PATH', '')}"},
    )  # fmt: skip
    assert (tmp_path / "aigov_registry_client" / "client.py").exists(), generated.stdout + generated.stderr

    code = new_ministry_code()
    created = httpx.post(
        stack.url("registry") + "/v1/ministries",
        json={"code": code, "name": f"Ministry {code}"},
        headers={"Authorization": f"Bearer {stack.token('root', ['admin'])}"},
    )
    assert created.status_code == 201, created.text
    (tmp_path / "example.py").write_text(python_example(), encoding="utf-8")
    environment = {
        **os.environ,
        "PYTHONPATH": str(tmp_path),
        "AIGOV_REGISTRY_URL": stack.url("registry"),
        "AIGOV_TOKEN": stack.token("alice", ["planner"], code),
        "AIGOV_MINISTRY": code,
    }
    ran = subprocess.run(
        [sys.executable, str(tmp_path / "example.py")], capture_output=True, text=True, timeout=120, env=environment
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    first, *listed = ran.stdout.splitlines()
    project_id = first.split()[0]
    assert first.endswith("procurement Drafting aid for internal memos")
    assert listed == [f"{project_id} procurement Drafting aid for internal memos"]
