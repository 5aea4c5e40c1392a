"""The headless browser and Japanese fonts the periodic report's screenshot test needs, set up by ``make test``.

Why here and not in CI only: the README's one test command must pass on a bare Debian machine, so ``make test``
runs ``python -m tests.browser`` first. Missing pieces are installed from Debian with apt-get when running as
root; otherwise it exits 1 with a message naming the packages to install, before any test runs.

``AIGOV_CHROMIUM`` overrides which executable is looked up (a name on ``PATH`` or a path); the tests use it
to prove the "missing" branch without removing anything from the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

CHROMIUM_NAMES = ("chromium", "chromium-browser")
#: Debian packages: the browser, and a font with Japanese glyphs (the report's labels are Japanese).
CHROMIUM_PACKAGE = "chromium"
CJK_FONT_PACKAGE = "fonts-noto-cjk"
FONT_PACKAGES = (CJK_FONT_PACKAGE, "fontconfig")

Installer = Callable[[Sequence[str]], None]


def find_chromium() -> str | None:
    """The Chromium executable, honouring ``AIGOV_CHROMIUM``."""
    override = os.environ.get("AIGOV_CHROMIUM")
    names = (override,) if override else CHROMIUM_NAMES
    return next((found for name in names if (found := shutil.which(name))), None)


def has_japanese_font() -> bool:
    """Whether fontconfig knows a font covering Japanese (what Chromium renders the report's labels with)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    listed = subprocess.run([fc_list, ":lang=ja", "family"], capture_output=True, text=True, check=False)
    return bool(listed.stdout.strip())


def missing_packages() -> list[str]:
    """The Debian packages to install for the screenshot test, empty when everything is there."""
    missing = [] if find_chromium() else [CHROMIUM_PACKAGE]
    if not has_japanese_font():
        missing.extend(FONT_PACKAGES)
    return missing


def apt_get_install(packages: Sequence[str]) -> None:
    """Install Debian packages non-interactively (root only); apt's chatter is shown only if it fails."""
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
    ):
        result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
            raise subprocess.CalledProcessError(result.returncode, command)


@dataclass(frozen=True)
class Outcome:
    """What ``ensure`` did: the packages it installed, or the message telling a non-root user what to install."""

    installed: tuple[str, ...] = ()
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.message is None


def ensure(
    missing: Sequence[str],
    is_root: bool,
    install: Installer = apt_get_install,
    recheck: Callable[[], list[str]] = lambda: [],
) -> Outcome:
    """Install ``missing`` as root; otherwise say exactly which packages to install. ``recheck`` confirms it worked."""
    if not missing:
        return Outcome()
    if not is_root:
        command = f"sudo apt-get install {' '.join(missing)}"
        return Outcome(message=f"the screenshot test needs the Debian packages {', '.join(missing)}: run `{command}`")
    install(missing)
    still = recheck()
    if still:
        return Outcome(
            installed=tuple(missing), message=f"installed {', '.join(missing)} but {', '.join(still)} still missing"
        )
    return Outcome(installed=tuple(missing))


def main() -> int:
    try:
        outcome = ensure(missing_packages(), os.geteuid() == 0, recheck=missing_packages)
    except subprocess.CalledProcessError as error:
        print(f"make test: installing the screenshot test's packages failed: {error}", file=sys.stderr)
        return 1
    if outcome.installed:
        print(f"make test: installed {', '.join(outcome.installed)} for the screenshot test", file=sys.stderr)
    if not outcome.ok:
        print(f"make test: {outcome.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
