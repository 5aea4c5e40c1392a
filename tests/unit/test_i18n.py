"""Japanese and English: every message marked in the code has a Japanese translation, the committed ``.mo`` is
the compilation of the ``.po``, placeholders survive translation, and ``Accept-Language`` is negotiated."""

from __future__ import annotations

import io
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from shared.i18n import DOMAIN, KEYWORDS, LOCALE_DIRECTORY, Msg, negotiate, translate

ROOT = Path(__file__).resolve().parents[2]
PO = LOCALE_DIRECTORY / "ja" / "LC_MESSAGES" / f"{DOMAIN}.po"


def marked() -> dict[str, str]:
    """Every message marked with ``N_`` or ``Msg`` in shared/ and services/, with where it is."""
    found: dict[str, str] = {}
    for folder in ("shared", "services"):
        for filename, line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            text = message if isinstance(message, str) else message[0]
            found.setdefault(text, f"{folder}/{filename}:{line}")
    return found


def catalog():  # type: ignore[no-untyped-def]
    with PO.open("rb") as source:
        return read_po(source)


def test_every_marked_message_has_a_japanese_translation() -> None:
    messages, translations = marked(), catalog()
    assert len(messages) > 100
    missing = [
        f"{where}: {text!r}"
        for text, where in sorted(messages.items())
        if not (translations.get(text) and translations.get(text).string and not translations.get(text).fuzzy)
    ]
    assert not missing, "add these to shared/locale/ja/LC_MESSAGES/aigov.po, then `python -m shared.i18n compile`"


def test_the_catalog_holds_no_message_the_code_no_longer_marks() -> None:
    messages = marked()
    unused = [message.id for message in catalog() if message.id and message.id not in messages]
    assert not unused


def test_placeholders_survive_translation() -> None:
    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    wrong = [m.id for m in catalog() if m.id and fields(m.id) != fields(m.string)]
    assert not wrong


def test_the_committed_mo_is_the_compilation_of_the_po() -> None:
    compiled = io.BytesIO()
    write_mo(compiled, catalog(), use_fuzzy=False)
    assert PO.with_suffix(".mo").read_bytes() == compiled.getvalue(), "run `python -m shared.i18n compile`"


@pytest.mark.parametrize(
    ("header", "default", "chosen"),
    [
        (None, "en", "en"),
        (None, "ja", "ja"),
        ("ja", "en", "ja"),
        ("ja-JP,ja;q=0.9", "en", "ja"),
        ("en-US,en;q=0.9,ja;q=0.8", "ja", "en"),
        ("en;q=0.5, ja;q=0.8", "en", "ja"),
        ("fr, de", "ja", "ja"),
        ("ja;q=0", "en", "en"),
        ("ja;q=abc, en", "ja", "en"),
    ],
)
def test_accept_language_is_negotiated(header: str | None, default: str, chosen: str) -> None:
    assert negotiate(header, default) == chosen


def test_a_message_with_values_is_english_text_that_translates_itself_keeping_the_values() -> None:
    message = Msg("No project with id {project_id}.", project_id="p-1")
    assert message == "No project with id p-1." and isinstance(message, str)
    assert translate(message, "ja") == "ID p-1 のプロジェクトはありません。"
    assert translate(message, "en") == "No project with id p-1."
    assert translate("Resource not found", "ja") == "リソースが見つかりません"
    assert translate("typed by a user", "ja") == "typed by a user"
