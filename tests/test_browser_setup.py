"""``make test`` sets up the screenshot test's browser: it finds it, installs it as root, or names the packages."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests import browser
from tests.support import PROJECT_ROOT


def test_an_overridden_browser_that_is_absent_is_reported_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGOV_CHROMIUM", "aigov-no-such-chromium")
    assert browser.find_chromium() is None
    assert browser.CHROMIUM_PACKAGE in browser.missing_packages()


def test_an_overridden_browser_that_exists_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGOV_CHROMIUM", sys.executable)
    assert browser.find_chromium() == sys.executable


def test_as_root_the_missing_packages_are_installed() -> None:
    installed: list[Sequence[str]] = []
    outcome = browser.ensure(["chromium", "fonts-noto-cjk"], is_root=True, install=installed.append)
    assert installed == [["chromium", "fonts-noto-cjk"]]
    assert outcome.ok and outcome.installed == ("chromium", "fonts-noto-cjk")


def test_an_install_that_did_not_help_is_a_failure_naming_what_is_still_missing() -> None:
    outcome = browser.ensure(["chromium"], is_root=True, install=lambda _: None, recheck=lambda: ["chromium"])
    assert not outcome.ok and "chromium still missing" in str(outcome.message)


def test_without_root_nothing_is_installed_and_the_message_names_the_packages() -> None:
    installed: list[Sequence[str]] = []
    outcome = browser.ensure(["chromium", "fonts-noto-cjk"], is_root=False, install=installed.append)
    assert installed == []
    assert not outcome.ok and "chromium, fonts-noto-cjk" in str(outcome.message)
    assert "apt-get install chromium fonts-noto-cjk" in str(outcome.message)


def test_nothing_missing_needs_nothing() -> None:
    assert browser.ensure([], is_root=False) == browser.Outcome()


def test_the_make_step_fails_with_the_message_when_the_browser_is_missing_and_it_may_not_install() -> None:
    """The real entry point ``make test`` runs (``tests/browser.py``), as a non-root user would meet it (``setpriv``
    drops root). The script runs from a world-readable copy: the checkout may sit in a folder only root can read."""
    readable = Path(tempfile.mkdtemp(prefix="aigov-browser-"))
    readable.chmod(0o755)
    script = readable / "browser.py"
    shutil.copyfile(PROJECT_ROOT / "tests" / "browser.py", script)
    script.chmod(0o644)
    command = [sys.executable, str(script)]
    environment = {"AIGOV_CHROMIUM": "aigov-no-such-chromium", "PATH": "/usr/bin:/bin"}
    if subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() == "0":
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    try:
        result = subprocess.run(command, cwd=readable, env=environment, capture_output=True, text=True, timeout=60)
    finally:
        shutil.rmtree(readable)
    assert result.returncode == 1, result.stderr
    assert "chromium" in result.stderr and "apt-get install" in result.stderr
