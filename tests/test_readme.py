"""The README's settings table stays true: every setting the services read is listed with its variable."""

from __future__ import annotations

from pathlib import Path

from shared.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_in_the_readme_settings_table() -> None:
    table = README.read_text().split("## Settings", 1)[1].split("\n## ", 1)[0]
    missing = [f"AIGOV_{name.upper()}" for name in Settings.model_fields if f"`AIGOV_{name.upper()}`" not in table]
    assert not missing, f"add these to the README's settings table: {missing}"
